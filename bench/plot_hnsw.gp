# bench/plot_hnsw.gp - recall@10 against queries per second, one line per
# library, from the data bench_hnsw writes (bench/run.sh does both).
#
#   gnuplot -c bench/plot_hnsw.gp [DATA [PNG [TITLE [LIBS]]]]
#       DATA default bench/bin/hnsw_synthetic.dat   PNG default bench/bin/hnsw.png
#
# DATA: one block per library (index 0, 1, ...), each headed "# name", with
# lines "recall qps ef".

datafile = (ARGC >= 1 && strlen(ARG1) > 0) ? ARG1 : "bench/bin/hnsw_synthetic.dat"
outfile = (ARGC >= 2 && strlen(ARG2) > 0) ? ARG2 : "bench/bin/hnsw.png"
name = (ARGC >= 3 && strlen(ARG3) > 0) ? ARG3 : "synthetic"
libs = (ARGC >= 4 && strlen(ARG4) > 0) ? ARG4 : "ds hnswlib faiss"   # the blocks' order

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1000,650 enhanced font "sans,10"
} else {
    set terminal png size 1000,650
}
set output outfile
set title sprintf("Recall (10 nearest) vs queries per second, %s, M=16, ef\\_construction=200, one thread (bench/bench\\_hnsw.cc)", name)
set xlabel "recall, 10 nearest"
set ylabel "queries per second"
set logscale y
set grid
set key bottom left
plot for [i=1:words(libs)] datafile index (i - 1) using 1:2 with linespoints pt 7 ps 0.8 \
     title word(libs, i)
