# Scaling plot: throughput against replicas, the ideal N x throughput(1), and the efficiency.
# Data (scaling.dat): N, req/s, ideal req/s, efficiency, p50, p90, p99 (ms), p99 at fixed rate.
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
     "" using 1:2 with linespoints lw 3 pt 7 ps 1.5 lc rgb "#1f77b4" title "measured", \
     "" using 1:2:(sprintf("%.0f", $2)) with labels offset 0,1.2 notitle, \
     "" using 1:4 axes x1y2 with linespoints lw 2 pt 5 lc rgb "#d62728" title "efficiency (right axis)", \
     0.9 axes x1y2 with lines dashtype 3 lc rgb "#d62728" title "target efficiency 0.9"
