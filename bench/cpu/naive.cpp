// A plain reference loop nest for attention (f32, bshd), the baseline of
// bench/cpu: for every row, scores over all visible keys, softmax, weighted
// sum of values. Usage: naive S D H THREADS(ignored: one thread) CAUSAL
// WINDOW; prints the median milliseconds of 3 runs.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: naive S D H CAUSAL WINDOW\n");
    return 2;
  }
  int S = std::atoi(argv[1]), D = std::atoi(argv[2]), H = std::atoi(argv[3]);
  bool causal = std::atoi(argv[4]) != 0;
  int window = std::atoi(argv[5]); // < 0: none
  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  std::vector<float> q(size_t(S) * H * D), k(q.size()), v(q.size()),
      o(q.size());
  for (auto *t : {&q, &k, &v})
    for (float &x : *t)
      x = normal(rng);
  float scale = 1.0f / std::sqrt(float(D));
  std::vector<float> s(S);
  std::vector<double> times;
  for (int run = 0; run < 3; ++run) {
    auto start = std::chrono::steady_clock::now();
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < S; ++i) {
        int lo = window >= 0 ? std::max(0, i - window) : 0;
        int hi = causal ? i : S - 1;
        float m = -INFINITY;
        for (int j = lo; j <= hi; ++j) {
          float dot = 0;
          for (int d = 0; d < D; ++d)
            dot +=
                q[(size_t(i) * H + h) * D + d] * k[(size_t(j) * H + h) * D + d];
          s[j] = dot * scale;
          m = std::max(m, s[j]);
        }
        float sum = 0;
        for (int j = lo; j <= hi; ++j) {
          s[j] = std::exp(s[j] - m);
          sum += s[j];
        }
        float *out = &o[(size_t(i) * H + h) * D];
        std::fill(out, out + D, 0.0f);
        for (int j = lo; j <= hi; ++j)
          for (int d = 0; d < D; ++d)
            out[d] += s[j] * v[(size_t(j) * H + h) * D + d];
        for (int d = 0; d < D; ++d)
          out[d] /= sum;
      }
    auto stop = std::chrono::steady_clock::now();
    times.push_back(
        std::chrono::duration<double, std::milli>(stop - start).count());
    if (times.back() > 20000)
      break; // one run is enough for very slow sizes
  }
  std::sort(times.begin(), times.end());
  std::printf("%.3f\n", times[times.size() / 2]);
  return 0;
}
