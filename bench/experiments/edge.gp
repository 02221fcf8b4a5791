# Edge overhead plot: through the same HAProxy configuration to kurz and to nginx `return 302`:
# saturation throughput, and p99 at the same fixed rate (half kurz's maximum).
# Data (edge.dat): index, name, req/s at saturation, p99 (ms) at the fixed rate.
# Variables: out (PNG file), rate (the fixed rate), replicas.
set terminal pngcairo size 900,420 font "DejaVu Sans,11" noenhanced
set output out
set multiplot layout 1,2 title sprintf("GET /{code} through HAProxy (stage3.cfg) to %s replicas of each", replicas)
set style fill solid 0.8 border -1
set boxwidth 0.6
set grid ytics
set xrange [0.4:2.6]
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set title "saturation throughput"
set ylabel "requests/s"
plot "edge.dat" using 1:3:xtic(2) with boxes lc rgb "#1f77b4" notitle, \
     "" using 1:3:(sprintf("%.0f", $3)) with labels offset 0,0.8 notitle
set title sprintf("p99 at %s req/s (open loop)", rate)
set ylabel "ms"
plot "edge.dat" using 1:4:xtic(2) with boxes lc rgb "#ff7f0e" notitle, \
     "" using 1:4:(sprintf("%.2f ms", $4)) with labels offset 0,0.8 notitle
unset multiplot
