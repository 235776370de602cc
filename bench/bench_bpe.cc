// bench/bench_bpe.cc - ds_bpe (ds_text.h) beside sentencepiece's BPE
// (Debian libsentencepiece-dev) on the same corpus and vocabulary size.
//
// Corpus: bench/bin/text_corpus.txt (written by bench_text: one Debian
// package name + description a line), else the shipped
// tests/data/debian/descriptions.txt.xz. The last tenth of the lines is
// held out. Both train on the rest at the same vocabulary size (default
// 4000; argument 1 changes it): sentencepiece with --model_type=bpe,
// --num_threads=1 (ds trains on one thread), --byte_fallback=true (so both
// are lossless over bytes), character_coverage 1.0, no extra pieces
// beyond its 3 control symbols, max_sentence_length large enough. Then
// both encode the held-out text line by line (sentencepiece's
// EncodeAsIds; ds_bpe_encode) and we report:
//   train   seconds (one run each; training is long)
//   encode  MB/s over the held-out text (median of BENCH_REPS passes)
//   bytes/token on the held-out text (higher = better compression)
// Note the pre-tokenization differs: sentencepiece treats the whitespace as
// a symbol ("▁") and merges across words never; ds splits GPT-2-style.
#define DS_IMPLEMENTATION
#include "ds_text.h"
#include "bench/bench.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

static std::vector<std::string> read_lines() {
    std::vector<std::string> v;
    std::ifstream f("bench/bin/text_corpus.txt");
    std::string line;
    if (f) {
        while (std::getline(f, line)) v.push_back(line);
        if (v.size() > 1000) return v;
        v.clear();
    }
    FILE *p = popen("xz -dc tests/data/debian/descriptions.txt.xz", "r");
    char buf[65536];
    while (p && fgets(buf, sizeof buf, p)) {
        std::string s(buf);
        if (!s.empty() && s.back() == '\n') s.pop_back();
        for (auto &ch : s)
            if (ch == '\t') ch = ' ';
        v.push_back(s);
    }
    if (p) pclose(p);
    return v;
}

int main(int argc, char **argv) {
    size_t vocab = argc > 1 ? (size_t)atol(argv[1]) : 4000;
    int reps = bench_reps(3);
    std::vector<std::string> lines = read_lines();
    if (lines.size() < 100) {
        fprintf(stderr, "bench_bpe: no corpus\n");
        return 1;
    }
    size_t cut = lines.size() - lines.size() / 10;
    std::string train, held;
    {
        std::ofstream o("bench/bin/bpe_train.txt");
        for (size_t i = 0; i < cut; i++) {
            o << lines[i] << "\n";
            train += lines[i];
            train += "\n";
        }
        for (size_t i = cut; i < lines.size(); i++) held += lines[i] + "\n";
    }
    printf("corpus: %zu lines, training %.2f MB, held out %.2f MB; vocabulary %zu\n", lines.size(),
           (double)train.size() / 1e6, (double)held.size() / 1e6, vocab);

    // ---- ds_bpe
    ds_bpe b;
    ds_bpe_init(&b, NULL);
    int64_t t0 = bench_now();
    if (ds_bpe_train(&b, train.data(), train.size(), vocab, NULL) != DS_OK) return 1;
    double ds_train = (double)(bench_now() - t0) / 1e9;
    std::vector<uint32_t> ids(held.size() + 1);
    size_t ds_tokens = 0;
    bench_samples sd = {{0}, 0};
    for (int r = 0; r < reps; r++) {
        ds_bpe_free(&b);  // cold cache each rep: reload the model
        ds_bpe_init(&b, NULL);
        ds_bpe_train(&b, train.data(), train.size(), vocab, NULL);
        size_t tot = 0;
        t0 = bench_now();
        for (size_t i = cut; i < lines.size(); i++) {
            size_t n;
            ds_bpe_encode(&b, lines[i].data(), lines[i].size(), ids.data(), ids.size(), &n);
            tot += n;
        }
        bench_add(&sd, (double)(bench_now() - t0));
        ds_tokens = tot;
    }
    size_t held_bytes = 0;
    for (size_t i = cut; i < lines.size(); i++) held_bytes += lines[i].size();

    // ---- sentencepiece
    std::ostringstream args;
    args << "--input=bench/bin/bpe_train.txt --model_prefix=bench/bin/spm_bpe --model_type=bpe --vocab_size=" << vocab
         << " --num_threads=1 --byte_fallback=true --character_coverage=1.0 --max_sentence_length=100000"
         << " --minloglevel=2";
    t0 = bench_now();
    auto st = sentencepiece::SentencePieceTrainer::Train(args.str());
    double sp_train = (double)(bench_now() - t0) / 1e9;
    if (!st.ok()) {
        fprintf(stderr, "sentencepiece: %s\n", st.ToString().c_str());
        return 1;
    }
    sentencepiece::SentencePieceProcessor sp;
    if (!sp.Load("bench/bin/spm_bpe.model").ok()) return 1;
    bench_samples ss = {{0}, 0};
    size_t sp_tokens = 0;
    std::vector<int> sids;
    for (int r = 0; r < reps; r++) {
        size_t tot = 0;
        t0 = bench_now();
        for (size_t i = cut; i < lines.size(); i++) {
            sp.Encode(lines[i], &sids);
            tot += sids.size();
        }
        bench_add(&ss, (double)(bench_now() - t0));
        sp_tokens = tot;
    }
    double dmb = (double)held_bytes / 1e6 / (bench_median(&sd) / 1e9);
    double smb = (double)held_bytes / 1e6 / (bench_median(&ss) / 1e9);
    printf("train   ds_bpe %8.2f s    sentencepiece %8.2f s    ratio %.1fx\n", ds_train, sp_train, sp_train / ds_train);
    printf("encode  ds_bpe %8.2f MB/s sentencepiece %8.2f MB/s ratio %.1fx\n", dmb, smb, dmb / smb);
    printf("bytes/token (held out)  ds_bpe %.3f   sentencepiece %.3f   (ds / sp = %.3f)\n",
           (double)held_bytes / (double)ds_tokens, (double)held_bytes / (double)sp_tokens,
           (double)sp_tokens / (double)ds_tokens);
    ds_bpe_free(&b);
    return 0;
}
