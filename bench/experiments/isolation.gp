# Isolation plot: redirect p50 and p99 at a fixed rate, without and with a flood of QR renders,
# in stage 2 x2 (QR in the monolith) and stage 3 (QR in its own service).
# Data (isolation.dat): index, name, p50 quiet, p99 quiet, p50 flood, p99 flood (ms).
# Variables: out (PNG file), rate (redirects per second).
set terminal pngcairo size 900,480 font "DejaVu Sans,11" noenhanced
set output out
set title sprintf("redirects at %s req/s (open loop): without and with a QR flood", rate)
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set ylabel "ms"
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set key left top
plot "isolation.dat" using 3:xtic(2) title "p50 quiet" lc rgb "#9ecae1", \
     "" using 4 title "p99 quiet" lc rgb "#1f77b4", \
     "" using 5 title "p50 with the QR flood" lc rgb "#fdae6b", \
     "" using 6 title "p99 with the QR flood" lc rgb "#d62728"
