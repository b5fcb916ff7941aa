/* fuzz.h: what the libFuzzer targets in fuzz/ share (see fuzz/README.md). */
#ifndef MCPAUTH_FUZZ_H
#define MCPAUTH_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"

/*
 * libFuzzer's entry points: every target defines LLVMFuzzerTestOneInput;
 * fuzz.c defines LLVMFuzzerInitialize, which runs fuzz_init and then the
 * target's fuzz_setup, if it has one (configurations, stores, files it
 * needs once per process).
 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_setup(void) __attribute__((weak));

/*
 * The time every target runs at (2026-01-01T00:00:00Z), so that seeds with
 * an exp (fuzz/seeds.mjs) stay valid for good.
 */
#define FUZZ_NOW 1767225600LL

/* The issuer of every configuration fuzz_conf writes. */
#define FUZZ_ISSUER "https://auth.example.com/t1"

/*
 * The public halves of the fixed test keys in fuzz/keys.json (their private
 * halves sign the seeds; they protect nothing).
 */
extern const char fuzz_es256_pub[];
extern const char fuzz_eddsa_pub[];
extern const char fuzz_rs256_pub[];
/* A compact JWS signed with each, over claims of no importance. */
extern const char fuzz_es256_jwt[];
extern const char fuzz_eddsa_jwt[];
extern const char fuzz_rs256_jwt[];

/* Crashes with msg: an oracle failed (libFuzzer keeps the input). */
void fuzz_fail(const char *msg) __attribute__((noreturn));

#define FUZZ_ASSERT(cond)                                                    \
	do {                                                                 \
		if (!(cond))                                                 \
			fuzz_fail(__FILE__ ": " #cond);                      \
	} while (0)

/*
 * Process set-up, from LLVMFuzzerInitialize before fuzz_setup: log only
 * errors, initialise the JOSE library once.
 */
void fuzz_init(void);

/*
 * A private directory under $TMPDIR (script/fuzz gives each run its own,
 * on tmpfs when it can), made on first use and removed with its contents
 * at exit.
 */
const char *fuzz_tmpdir(void);

/*
 * Writes <fuzz_tmpdir>/<name>.conf (issuer FUZZ_ISSUER, database mcpauth.db,
 * two resources) with the global lines extra, and loads it; aborts when it
 * does not load. Owned by the caller (mcpauth_conf_free).
 */
struct mcpauth_conf *fuzz_conf(const char *name, const char *extra);

/* Opens conf's database, creating and migrating it; aborts on failure. */
struct mcpauth_store *fuzz_store(const struct mcpauth_conf *conf);

/*
 * Checks what mcpauth_client_from_metadata (origin, under conf) left in a
 * client it accepted: every rule of client.h holds, and the metadata and
 * the registration answer read back as JSON; aborts otherwise.
 */
void fuzz_check_client(const struct mcpauth_conf *conf,
		       enum mcpauth_client_origin origin,
		       const struct mcpauth_client *c);

/* A NUL-terminated copy of data (free), NULL only when out of memory. */
char *fuzz_str(const uint8_t *data, size_t size);

/*
 * Splits data at its first newline into two NUL-terminated copies (free
 * both): *head before it, *tail after it ("" when there is none). *tail_len
 * (may be NULL) is tail's length, NUL bytes included. False only when out
 * of memory.
 */
bool fuzz_split(const uint8_t *data, size_t size, char **head, char **tail,
		size_t *tail_len);

#endif
