/* The machine's measured peak, for the roofline (iree_matrix/stages/peak.py builds and runs this).
 *
 *   cc -O3 -march=native -pthread peak.c -o peak && ./peak THREADS
 *
 * FLOPs: CHAINS independent fused multiply-add chains on the widest float vectors the compiler
 * targets for this CPU (AVX-512: 16 lanes, AVX/AVX2: 8, else 4) — enough chains to cover every
 * FMA unit's latency, so the loop is bound by FMA throughput alone. One FMA is 2 FLOPs.
 * Bandwidth: a STREAM triad a[i] = b[i] + s * c[i] over arrays far larger than any cache, 24 bytes
 * per element (two reads, one write; STREAM's own accounting, https://www.cs.virginia.edu/stream/).
 * Each is measured on 1 thread and on THREADS threads (each its own chains / its slice of the
 * arrays), best of REPEATS. Prints one JSON object.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__AVX512F__)
#define LANES 16
#define ISA "avx512f"
#elif defined(__AVX__)
#define LANES 8
#define ISA "avx"
#else
#define LANES 4
#define ISA "sse/neon (128-bit)"
#endif

#ifdef __FMA__
#define HAS_FMA 1
#elif defined(__ARM_FEATURE_FMA)
#define HAS_FMA 1
#else
#define HAS_FMA 0
#endif

typedef float vec __attribute__((vector_size(LANES * sizeof(float))));

#define CHAINS 12
#define FMA_ITERATIONS 50000000L
#define TRIAD_ELEMENTS (1L << 24) /* 128 MiB per array of doubles */
#define REPEATS 5

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static volatile float sink;

static void *fma_worker(void *arg) {
    (void)arg;
    vec a, b, x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11;
    for (int l = 0; l < LANES; l++) {
        a[l] = 0.999999f;
        b[l] = 1e-6f;
        x0[l] = x1[l] = x2[l] = x3[l] = x4[l] = x5[l] = l * 1e-3f;
        x6[l] = x7[l] = x8[l] = x9[l] = x10[l] = x11[l] = l * 2e-3f;
    }
    /* CHAINS (12) independent chains, each one FMA per iteration, all in registers */
    for (long i = 0; i < FMA_ITERATIONS; i++) {
        x0 = x0 * a + b;
        x1 = x1 * a + b;
        x2 = x2 * a + b;
        x3 = x3 * a + b;
        x4 = x4 * a + b;
        x5 = x5 * a + b;
        x6 = x6 * a + b;
        x7 = x7 * a + b;
        x8 = x8 * a + b;
        x9 = x9 * a + b;
        x10 = x10 * a + b;
        x11 = x11 * a + b;
    }
    vec sum = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11;
    float total = 0;
    for (int l = 0; l < LANES; l++) total += sum[l];
    sink = total;
    return NULL;
}

struct slice {
    double *a, *b, *c;
    long begin, end;
};

static void *triad_worker(void *arg) {
    struct slice *s = arg;
    const double scalar = 3.0;
    for (long i = s->begin; i < s->end; i++) s->a[i] = s->b[i] + scalar * s->c[i];
    return NULL;
}

/* Seconds of the best of REPEATS runs of `work` on `threads` threads. */
static double best_of(void *(*work)(void *), int threads, struct slice *slices) {
    double best = 1e30;
    pthread_t ids[256];
    for (int r = 0; r < REPEATS; r++) {
        double start = now();
        for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, work, slices ? &slices[t] : NULL);
        for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
        double took = now() - start;
        if (took < best) best = took;
    }
    return best;
}

static double triad_gbs(int threads, double *a, double *b, double *c) {
    struct slice slices[256];
    long per = TRIAD_ELEMENTS / threads;
    for (int t = 0; t < threads; t++) {
        slices[t] = (struct slice){a, b, c, t * per, t == threads - 1 ? TRIAD_ELEMENTS : (t + 1) * per};
    }
    double seconds = best_of(triad_worker, threads, slices);
    return 24.0 * TRIAD_ELEMENTS / seconds / 1e9;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 256) {
        fprintf(stderr, "peak: THREADS must be 1 to 256, not %s\n", argv[1]);
        return 2;
    }
    double flops_per_thread = 2.0 * LANES * CHAINS * (double)FMA_ITERATIONS;
    double one = flops_per_thread / best_of(fma_worker, 1, NULL) / 1e9;
    double all = threads * flops_per_thread / best_of(fma_worker, threads, NULL) / 1e9;

    double *a = malloc(TRIAD_ELEMENTS * sizeof(double));
    double *b = malloc(TRIAD_ELEMENTS * sizeof(double));
    double *c = malloc(TRIAD_ELEMENTS * sizeof(double));
    if (!a || !b || !c) {
        fprintf(stderr, "peak: cannot allocate 3 x %ld MiB for the triad\n", TRIAD_ELEMENTS * 8 >> 20);
        return 1;
    }
    for (long i = 0; i < TRIAD_ELEMENTS; i++) {
        a[i] = 0.0;
        b[i] = 1.0;
        c[i] = 2.0;
    }
    double bw_one = triad_gbs(1, a, b, c);
    double bw_all = triad_gbs(threads, a, b, c);
    printf("{\"isa\": \"%s\", \"fma\": %s, \"lanes\": %d, \"chains\": %d, \"threads\": %d, "
           "\"gflops_1\": %.3f, \"gflops_all\": %.3f, \"triad_gbs_1\": %.3f, \"triad_gbs_all\": %.3f, "
           "\"triad_bytes\": %ld, \"check\": %g}\n",
           ISA, HAS_FMA ? "true" : "false", LANES, CHAINS, threads, one, all, bw_one, bw_all,
           3L * 8 * TRIAD_ELEMENTS, a[TRIAD_ELEMENTS / 2]);
    free(a);
    free(b);
    free(c);
    return 0;
}
