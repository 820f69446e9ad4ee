/*
 * s2vector: SingleStore's vector functions as MariaDB UDFs, for the test bed's gateway.
 *
 * Compiled and loaded by tests/testbed/udf/__init__.py (gcc, the private instance's own --plugin-dir).
 *
 *   DOT_PRODUCT(a, b)          REAL    sum of a[i] * b[i]
 *   EUCLIDEAN_DISTANCE(a, b)   REAL    sqrt of sum of (a[i] - b[i])^2
 *   S2VEC_PACK(v [, n])        STRING  a vector as packed little-endian F32; NULL when it is not one
 *                                      (or, given n, has another number of elements)
 *   S2VEC_JSON(packed)         STRING  packed little-endian F32 as JSON text ("[1,2.5,...]")
 *
 * An argument is a vector in either of SingleStore's two representations: JSON text ("[1,2,3]") or
 * packed little-endian F32 (its binary format, vector_type_project_format=BINARY). Text that starts
 * with '[' and ends with ']' and parses as an array of numbers is JSON; anything else whose length is a
 * multiple of 4 is packed. NULL in, NULL out. Vectors of different lengths, or an argument that is
 * neither, give NULL (SingleStore raises an error there; the gateway's translation table says so).
 */
#include <ctype.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <mysql.h> /* UDF_INIT, UDF_ARGS (libmariadb-dev) */


typedef struct {
    float *a;
    float *b;
    size_t cap_a, cap_b;
    long const_n[2]; /* a constant argument (the query vector), parsed once in _init; -1: not constant */
    char *out;
    size_t cap_out;
} state_t;

/* Parse JSON text into *buf (grown as needed); -1 when it is not a flat array of numbers. */
static long parse_json(const char *s, unsigned long len, float **buf, size_t *cap) {
    const char *p = s, *end = s + len;
    long n = 0;
    while (p < end && isspace((unsigned char)*p)) p++;
    while (end > p && isspace((unsigned char)end[-1])) end--;
    if (end - p < 2 || *p != '[' || end[-1] != ']') return -1;
    p++;
    end--;
    char tmp[64];
    for (;;) {
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p == end) return n == 0 ? 0 : -1;
        size_t k = 0;
        while (p < end && k < sizeof tmp - 1 && (isdigit((unsigned char)*p) || *p == '-' || *p == '+' ||
                                                  *p == '.' || *p == 'e' || *p == 'E'))
            tmp[k++] = *p++;
        if (k == 0) return -1;
        tmp[k] = 0;
        char *stop;
        double v = strtod(tmp, &stop);
        if (*stop != 0) return -1;
        if ((size_t)n >= *cap) {
            size_t nc = *cap ? *cap * 2 : 256;
            float *nb = realloc(*buf, nc * sizeof(float));
            if (!nb) return -1;
            *buf = nb;
            *cap = nc;
        }
        (*buf)[n++] = (float)v;
        while (p < end && isspace((unsigned char)*p)) p++;
        if (p == end) return n;
        if (*p != ',') return -1;
        p++;
    }
}

/* The vector in args[i]: a pointer to n floats (packed data is read in place on little-endian hosts). */
static long load(UDF_ARGS *args, unsigned i, float **buf, size_t *cap, const float **out) {
    const char *s = args->args[i];
    unsigned long len = args->lengths[i];
    if (s == NULL) return -2;
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
        long n = parse_json(s, len, buf, cap);
        if (n >= 0) {
            *out = *buf;
            return n;
        }
    }
    if (len % 4 != 0) return -1;
    long n = (long)(len / 4);
    if ((size_t)n > *cap) {
        float *nb = realloc(*buf, (size_t)n * sizeof(float));
        if (!nb) return -1;
        *buf = nb;
        *cap = (size_t)n;
    }
    memcpy(*buf, s, len); /* unaligned input: copy (x86-64 and arm64 are little-endian) */
    *out = *buf;
    return n;
}

static my_bool init_two(UDF_INIT *initid, UDF_ARGS *args, char *message, const char *name) {
    if (args->arg_count != 2) {
        strcpy(message, name);
        strcat(message, "() takes two vectors");
        return 1;
    }
    args->arg_type[0] = STRING_RESULT;
    args->arg_type[1] = STRING_RESULT;
    state_t *st = calloc(1, sizeof(state_t));
    if (!st) {
        strcpy(message, "out of memory");
        return 1;
    }
    initid->ptr = (char *)st;
    initid->maybe_null = 1;
    initid->decimals = 31; /* NOT_FIXED_DEC: a double shown with all its digits */
    /* A constant argument is known here: parse it once, not once per row (a JSON query vector of 128
       elements would otherwise cost 128 strtod calls per row). */
    for (unsigned i = 0; i < 2; i++) {
        const float *unused;
        st->const_n[i] = -1;
        if (args->args[i] != NULL)
            st->const_n[i] = load(args, i, i ? &st->b : &st->a, i ? &st->cap_b : &st->cap_a, &unused);
        if (st->const_n[i] < 0) st->const_n[i] = -1;
    }
    return 0;
}

static void deinit_state(UDF_INIT *initid) {
    state_t *st = (state_t *)initid->ptr;
    if (st) {
        free(st->a);
        free(st->b);
        free(st->out);
        free(st);
    }
}

static long load_pair(UDF_INIT *initid, UDF_ARGS *args, const float **a, const float **b) {
    state_t *st = (state_t *)initid->ptr;
    long na, nb;
    if (st->const_n[0] >= 0 && args->args[0] != NULL) {
        na = st->const_n[0];
        *a = st->a;
    } else {
        na = load(args, 0, &st->a, &st->cap_a, a);
    }
    if (st->const_n[1] >= 0 && args->args[1] != NULL) {
        nb = st->const_n[1];
        *b = st->b;
    } else {
        nb = load(args, 1, &st->b, &st->cap_b, b);
    }
    if (na < 0 || nb < 0 || na != nb) return -1;
    return na;
}

/* DOT_PRODUCT */
my_bool DOT_PRODUCT_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
    return init_two(initid, args, message, "DOT_PRODUCT");
}
void DOT_PRODUCT_deinit(UDF_INIT *initid) { deinit_state(initid); }
double DOT_PRODUCT(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error) {
    const float *a, *b;
    long n = load_pair(initid, args, &a, &b);
    (void)error;
    if (n < 0) {
        *is_null = 1;
        return 0.0;
    }
    double s = 0.0;
    for (long i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

/* EUCLIDEAN_DISTANCE */
my_bool EUCLIDEAN_DISTANCE_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
    return init_two(initid, args, message, "EUCLIDEAN_DISTANCE");
}
void EUCLIDEAN_DISTANCE_deinit(UDF_INIT *initid) { deinit_state(initid); }
double EUCLIDEAN_DISTANCE(UDF_INIT *initid, UDF_ARGS *args, char *is_null, char *error) {
    const float *a, *b;
    long n = load_pair(initid, args, &a, &b);
    (void)error;
    if (n < 0) {
        *is_null = 1;
        return 0.0;
    }
    double s = 0.0;
    for (long i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        s += d * d;
    }
    return sqrt(s);
}

static my_bool init_one(UDF_INIT *initid, UDF_ARGS *args, char *message, const char *name) {
    if (args->arg_count < 1 || args->arg_count > 2) {
        strcpy(message, name);
        strcat(message, "() takes a vector and an optional element count");
        return 1;
    }
    args->arg_type[0] = STRING_RESULT;
    if (args->arg_count == 2) args->arg_type[1] = INT_RESULT;
    state_t *st = calloc(1, sizeof(state_t));
    if (!st) {
        strcpy(message, "out of memory");
        return 1;
    }
    initid->ptr = (char *)st;
    initid->maybe_null = 1;
    initid->max_length = 16777215;
    return 0;
}

/* S2VEC_PACK: JSON text (or packed data, unchanged) to packed F32. */
my_bool S2VEC_PACK_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
    return init_one(initid, args, message, "S2VEC_PACK");
}
void S2VEC_PACK_deinit(UDF_INIT *initid) { deinit_state(initid); }
char *S2VEC_PACK(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length, char *is_null,
                 char *error) {
    state_t *st = (state_t *)initid->ptr;
    const float *v;
    long n = load(args, 0, &st->a, &st->cap_a, &v);
    (void)result;
    (void)error;
    if (n < 0 || (args->arg_count == 2 && args->args[1] != NULL && n != *(long long *)args->args[1])) {
        *is_null = 1;
        return NULL;
    }
    *length = (unsigned long)n * 4;
    return (char *)v;
}

/* S2VEC_JSON: a vector (JSON or packed) as compact JSON text, F32 values with 9 significant digits. */
my_bool S2VEC_JSON_init(UDF_INIT *initid, UDF_ARGS *args, char *message) {
    return init_one(initid, args, message, "S2VEC_JSON");
}
void S2VEC_JSON_deinit(UDF_INIT *initid) { deinit_state(initid); }
char *S2VEC_JSON(UDF_INIT *initid, UDF_ARGS *args, char *result, unsigned long *length, char *is_null,
                 char *error) {
    state_t *st = (state_t *)initid->ptr;
    const float *v;
    long n = load(args, 0, &st->a, &st->cap_a, &v);
    (void)result;
    (void)error;
    if (n < 0) {
        *is_null = 1;
        return NULL;
    }
    size_t need = (size_t)n * 20 + 3;
    if (need > st->cap_out) {
        char *nb = realloc(st->out, need);
        if (!nb) {
            *is_null = 1;
            return NULL;
        }
        st->out = nb;
        st->cap_out = need;
    }
    char *o = st->out;
    *o++ = '[';
    for (long i = 0; i < n; i++) {
        if (i) *o++ = ',';
        o += snprintf(o, 20, "%.9g", (double)v[i]);
    }
    *o++ = ']';
    *length = (unsigned long)(o - st->out);
    return st->out;
}
