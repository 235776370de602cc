# bench/plot_fpp.gp - false-positive rate against bits per key, from the data
# bench_sketch writes with --curve FILE (bench/run.sh does both).
#
#   gnuplot -c bench/plot_fpp.gp [DATA [PNG]]
#       DATA  default bench/bin/fpp.dat     PNG  default bench/bin/fpp.png
#
# index 0 of DATA (Bloom): b k theory std_bpk std_fpp blk_bpk blk_fpp blk_model
# index 1 of DATA (cuckoo): fp keys load bpk(fp/load) alloc_bpk fpp model
# Measured points with no false positive at all (0) cannot sit on a log
# axis and are left out.

datafile = (ARGC >= 1 && strlen(ARG1) > 0) ? ARG1 : "bench/bin/fpp.dat"
outfile = (ARGC >= 2 && strlen(ARG2) > 0) ? ARG2 : "bench/bin/fpp.png"

# pngcairo where gnuplot was built with cairo (gnuplot-nox is), else libgd png.
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1000,650 enhanced font "sans,10"
} else {
    set terminal png size 1000,650
}
set output outfile

set title "False-positive rate vs memory (ds.h, bench/bench\\_sketch.c)"
set xlabel "bits per key"
set ylabel "false-positive rate"
set logscale y
set format y "10^{%L}"
set xrange [3:21]
set xtics 2
set grid xtics ytics mytics
set key bottom left box opaque
pos(y) = y > 0 ? y : NaN

plot datafile index 0 using 1:3 with lines lw 2 dt 2 lc rgb "#808080" title "theory, standard: (1-e^{-k/b})^k", \
     ''       index 0 using 4:(pos($5)) with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "ds standard (measured)", \
     ''       index 0 using 6:(pos($7)) with linespoints lw 2 pt 5 lc rgb "#d62728" title "ds blocked, 512-bit blocks (measured)", \
     ''       index 0 using 6:8 with lines lw 1 dt 3 lc rgb "#d62728" title "blocked model (Poisson keys per block)", \
     ''       index 1 using 4:(pos($6)) with linespoints lw 2 pt 9 lc rgb "#2ca02c" title "ds cuckoo, x = fingerprint bits / load (measured)", \
     ''       index 1 using 5:(pos($6)) with points pt 8 ps 1.3 lc rgb "#2ca02c" title "ds cuckoo, x = allocated bits / key (1- or 2-byte slots)"

set output
