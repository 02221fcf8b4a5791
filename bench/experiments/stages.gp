# Stages plot: saturation throughput per stage (with the share of wrong redirects), and p99 at
# saturation and at the fixed rate (half of each stage's maximum).
# Data (stages.dat): index, "label", req/s, p50, p99 (ms), wrong redirects %, p99 at fixed rate.
# Variable: out (PNG file).
set terminal pngcairo size 1000,480 font "DejaVu Sans,11" noenhanced
set output out
set multiplot layout 1,2 title "kurz stages under the same load through HAProxy (mix, 2 replicas)"
set style fill solid 0.8 border -1
set boxwidth 0.6
set grid ytics
set xrange [0.4:3.6]
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set title "saturation throughput (label: wrong redirects)"
set ylabel "requests/s"
plot "stages.dat" using 1:3:xtic(2) with boxes lc rgb "#1f77b4" notitle, \
     "" using 1:3:(sprintf("%.0f/s, %.1f%% wrong", $3, $6)) with labels offset 0,0.8 notitle
set title "p99 latency"
set ylabel "ms"
set boxwidth 0.3
plot "stages.dat" using ($1 - 0.16):5:xtic(2) with boxes lc rgb "#ff7f0e" title "at saturation", \
     "" using ($1 + 0.16):7 with boxes lc rgb "#2ca02c" title "at half the maximum (open loop)"
unset multiplot
