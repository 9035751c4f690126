/* test_util.c — SHA-256 against FIPS test vectors, RNG determinism and range. */
#include <stdio.h>
#include <string.h>
#include "base/util.h"

static int fails;
static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "NOT OK", what);
    fails += !ok;
}

static void sha_of(const char *s, size_t n, int reps, char hex[65]) {
    sha256_t h;
    uint8_t d[32];
    sha256_init(&h);
    for (int i = 0; i < reps; i++)
        sha256_update(&h, s, n);
    sha256_final(&h, d);
    sha256_hex(d, hex);
}

int main(void) {
    char hex[65];
    /* FIPS 180-2 appendix B vectors */
    sha_of("abc", 3, 1, hex);
    check(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256 abc");
    sha_of("", 0, 1, hex);
    check(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "sha256 empty");
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_of(m2, strlen(m2), 1, hex);
    check(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), "sha256 448-bit");
    sha_of("a", 1, 1000000, hex);
    check(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"), "sha256 million a");

    rng_t a, b;
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    int same = 1, in_range = 1;
    double mean = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t x = rng_below(&a, 7), y = rng_below(&b, 7);
        same &= x == y;
        in_range &= x < 7;
        mean += (double)x;
    }
    mean /= 100000;
    check(same, "rng same seed same stream");
    check(in_range, "rng_below in range");
    check(mean > 2.95 && mean < 3.05, "rng_below mean near 3");
    rng_seed(&b, 43);
    check(rng_u64(&a) != rng_u64(&b), "rng different seeds differ");
    double s = 0, s2 = 0;
    for (int i = 0; i < 100000; i++) {
        double z = rng_normal(&a);
        s += z, s2 += z * z;
    }
    check(s / 1e5 > -0.02 && s / 1e5 < 0.02 && s2 / 1e5 > 0.97 && s2 / 1e5 < 1.03, "rng_normal moments");

    long v;
    check(util_parse_long("12", 0, 100, &v) == 0 && v == 12, "parse_long ok");
    check(util_parse_long("12x", 0, 100, &v) == -1, "parse_long junk");
    check(util_parse_long("101", 0, 100, &v) == -1, "parse_long range");
    double d;
    check(util_parse_double("0.5", &d) == 0 && d == 0.5, "parse_double ok");
    check(util_parse_double("nan", &d) == -1, "parse_double nan refused");
    return fails ? 1 : 0;
}
