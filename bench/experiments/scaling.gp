# Scaling plot: throughput against replicas (median of the repeats, the bar from the lowest to the
# highest run), the ideal N x throughput(1), the throughput predicted from the per-request CPU
# costs, and the efficiency.
# Data (scaling.dat): N, median req/s, ideal req/s, efficiency, p50, p99 (ms), p99 at fixed rate,
# min req/s, max req/s, predicted req/s, edge CPU busy %.
# Variables: out (PNG file), svc (service), cpus (CPU per replica).
set terminal pngcairo size 900,520 font "DejaVu Sans,11" noenhanced
set output out
set title sprintf("kurz %s x N (%s CPU each) through HAProxy: saturation throughput", svc, cpus)
set xlabel "replicas N"
set ylabel "requests/s"
set y2label "scaling efficiency"
set y2range [0:1.2]
set y2tics 0.2
set ytics nomirror
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set key left top
set grid ytics
stats "scaling.dat" using 1 nooutput
set xrange [0:STATS_max + 1]
set xtics 1
plot "scaling.dat" using 1:3 with linespoints dashtype 2 lw 2 lc rgb "#999999" title "ideal N x throughput(1)", \
     "" using 1:10 with linespoints dashtype 4 lw 2 pt 6 lc rgb "#2ca02c" title "predicted from CPU us/request", \
     "" using 1:2:8:9 with yerrorlines lw 3 pt 7 ps 1.5 lc rgb "#1f77b4" title "measured (median, min-max)", \
     "" using 1:2:(sprintf("%.0f%s", $2, $11 > 70 ? " edge-bound" : "")) with labels offset 0,1.2 notitle, \
     "" using 1:4 axes x1y2 with linespoints lw 2 pt 5 lc rgb "#d62728" title "efficiency (right axis)", \
     0.9 axes x1y2 with lines dashtype 3 lc rgb "#d62728" title "target efficiency 0.9"
