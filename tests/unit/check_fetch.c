/* check_fetch.c: the outbound fetcher refuses what a client must not make us fetch. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "check_mcpauth.h"
#include "conf.h"
#include "err.h"
#include "fetch.h"

static char dir[4096];
static struct mcpauth_conf *conf;

/* Listeners that must see no connection unless fetch_allow lets one in. */
static int lfd4 = -1, lfd6 = -1;
static int port4, port6;

/* The configuration check_conf_text makes, with these global lines. */
static struct mcpauth_conf *load(const char *globals, struct mcpauth_err *err)
{
	return check_conf_load(dir, check_conf_text(CHECK_FILES_SECTION, "%s",
						    globals),
			       err);
}

/* Replaces the suite's conf with one made of globals; or fails the test. */
static void use_conf(const char *globals)
{
	struct mcpauth_err err;

	mcpauth_conf_free(conf);
	conf = load(globals, &err);
	ck_assert_msg(conf != NULL, "%s", err.description);
}

static void conf_setup(void)
{
	snprintf(dir, sizeof(dir), "%s", check_tmpdir());
	conf = NULL;
}

static void conf_teardown(void)
{
	mcpauth_conf_free(conf);
	conf = NULL;
	check_tmpdir_remove(dir);
}

/* --- mcpauth_fetch_special_use ------------------------------------------ */

/* text as a socket address (static storage, valid until the next call). */
static const struct sockaddr *sa(const char *text)
{
	static struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(443);
	} else {
		ck_assert_msg(inet_pton(AF_INET6, text, &in6->sin6_addr) == 1,
			      "%s is not an address", text);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(443);
	}
	return (const struct sockaddr *)&ss;
}

/* The address text is refused, for a reason that names the range word. */
static void assert_special(const char *text, const char *word)
{
	const char *why = mcpauth_fetch_special_use(sa(text));

	ck_assert_msg(why != NULL, "%s: not refused", text);
	ck_assert_msg(strstr(why, word) != NULL, "%s: '%s' does not say %s",
		      text, why, word);
}

static void assert_global(const char *text)
{
	const char *why = mcpauth_fetch_special_use(sa(text));

	ck_assert_msg(why == NULL, "%s: refused as %s", text, why);
}

START_TEST(test_special_ipv4_loopback)
{
	assert_special("127.0.0.1", "loopback");
	assert_special("127.255.255.254", "loopback");
}
END_TEST

START_TEST(test_special_ipv4_unspecified)
{
	assert_special("0.0.0.0", "unspecified");
}
END_TEST

START_TEST(test_special_ipv4_private)
{
	assert_special("10.1.2.3", "private");
	assert_special("172.16.0.1", "private");
	assert_special("172.31.255.255", "private");
	assert_special("192.168.1.1", "private");
}
END_TEST

/* 169.254.169.254: the cloud metadata service, the classic SSRF target. */
START_TEST(test_special_ipv4_link_local_cloud_metadata)
{
	assert_special("169.254.169.254", "link-local");
}
END_TEST

START_TEST(test_special_ipv4_shared_address_space)
{
	assert_special("100.64.0.1", "shared address space");
}
END_TEST

START_TEST(test_special_ipv4_multicast_and_broadcast)
{
	assert_special("224.0.0.1", "multicast");
	assert_special("255.255.255.255", "broadcast");
}
END_TEST

START_TEST(test_special_ipv4_benchmarking_and_documentation)
{
	assert_special("198.18.0.1", "benchmarking");
	assert_special("192.0.2.1", "documentation");
}
END_TEST

/* Just outside 172.16.0.0/12, 192.168.0.0/16 and 100.64.0.0/10. */
START_TEST(test_special_ipv4_global_allowed)
{
	assert_global("93.184.216.34");
	assert_global("8.8.8.8");
	assert_global("172.32.0.1");
	assert_global("192.169.0.1");
	assert_global("100.128.0.1");
}
END_TEST

START_TEST(test_special_ipv6_unspecified_and_loopback)
{
	assert_special("::", "unspecified");
	assert_special("::1", "loopback");
}
END_TEST

START_TEST(test_special_ipv6_mapped_judged_as_ipv4)
{
	assert_special("::ffff:127.0.0.1", "loopback");
	assert_special("::ffff:10.0.0.1", "private");
	assert_special("::ffff:169.254.169.254", "link-local");
	assert_global("::ffff:8.8.8.8");
}
END_TEST

/* RFC 6052: 64:ff9b::/96 reaches the IPv4 address in its last 32 bits. */
START_TEST(test_special_ipv6_nat64_judged_as_ipv4)
{
	assert_special("64:ff9b::7f00:1", "loopback");
	assert_global("64:ff9b::808:808");
}
END_TEST

START_TEST(test_special_ipv6_ipv4_compatible)
{
	assert_special("::127.0.0.1", "IPv4-compatible");
}
END_TEST

START_TEST(test_special_ipv6_unique_local)
{
	assert_special("fc00::1", "unique local");
	assert_special("fd12::1", "unique local");
}
END_TEST

START_TEST(test_special_ipv6_link_and_site_local)
{
	assert_special("fe80::1", "link-local");
	assert_special("fec0::1", "site-local");
}
END_TEST

START_TEST(test_special_ipv6_multicast)
{
	assert_special("ff02::1", "multicast");
}
END_TEST

START_TEST(test_special_ipv6_documentation)
{
	assert_special("2001:db8::1", "documentation");
}
END_TEST

/* 2002:7f00:1::/48 is 6to4 for 127.0.0.1. */
START_TEST(test_special_ipv6_6to4)
{
	assert_special("2002:7f00:1::1", "6to4");
}
END_TEST

/* Teredo (2001::/32) lies in the IETF protocol assignments, 2001::/23. */
START_TEST(test_special_ipv6_teredo)
{
	assert_special("2001::1", "IETF protocol assignments");
}
END_TEST

/* 100::/64 is discard-only, outside the global unicast 2000::/3. */
START_TEST(test_special_ipv6_outside_global_unicast)
{
	assert_special("100::1", "not global unicast");
}
END_TEST

START_TEST(test_special_ipv6_global_allowed)
{
	assert_global("2606:4700::1111");
}
END_TEST

START_TEST(test_special_unix_socket_refused)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	snprintf(un.sun_path, sizeof(un.sun_path), "/run/x.sock");
	ck_assert_ptr_nonnull(
		mcpauth_fetch_special_use((const struct sockaddr *)&un));
}
END_TEST

/* --- mcpauth_fetch_address_allowed -------------------------------------- */

#define ALLOW "fetch_allow = 127.0.0.1 10.0.0.0/8 fd00::/8 docs.internal\n"

static bool allowed(const char *text)
{
	return mcpauth_fetch_address_allowed(conf, sa(text));
}

START_TEST(test_allowed_exact_ipv4)
{
	use_conf(ALLOW);
	ck_assert(allowed("127.0.0.1"));
	ck_assert(!allowed("127.0.0.2"));
}
END_TEST

START_TEST(test_allowed_ipv4_mapped_matches_ipv4_entry)
{
	use_conf(ALLOW);
	ck_assert(allowed("::ffff:127.0.0.1"));
	ck_assert(!allowed("::ffff:127.0.0.2"));
}
END_TEST

START_TEST(test_allowed_ipv4_prefix)
{
	use_conf(ALLOW);
	ck_assert(allowed("10.200.1.1"));
	ck_assert(allowed("10.255.255.255"));
	ck_assert(!allowed("11.0.0.1"));
	ck_assert(!allowed("9.255.255.255"));
}
END_TEST

START_TEST(test_allowed_ipv6_prefix)
{
	use_conf(ALLOW);
	ck_assert(allowed("fd12::1"));
	ck_assert(!allowed("fc00::1"));
	ck_assert(!allowed("::1"));
}
END_TEST

/* A host name entry allows the name, never an address by itself. */
START_TEST(test_allowed_host_entry_allows_no_address)
{
	use_conf("fetch_allow = docs.internal localhost\n");
	ck_assert(!allowed("127.0.0.1"));
	ck_assert(!allowed("::1"));
}
END_TEST

/* Prefixes that do not end on a byte: /9 and /23. */
START_TEST(test_allowed_prefix_boundaries)
{
	use_conf("fetch_allow = 10.0.0.0/9\n");
	ck_assert(allowed("10.127.255.255"));
	ck_assert(!allowed("10.128.0.0"));
	use_conf("fetch_allow = 192.168.0.0/23\n");
	ck_assert(allowed("192.168.0.0"));
	ck_assert(allowed("192.168.1.255"));
	ck_assert(!allowed("192.168.2.0"));
	ck_assert(!allowed("192.167.255.255"));
}
END_TEST

START_TEST(test_allowed_nothing_by_default)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	use_conf("");
	ck_assert(!allowed("127.0.0.1"));
	ck_assert(!allowed("8.8.8.8"));
	use_conf(ALLOW);
	ck_assert(!mcpauth_fetch_address_allowed(
		conf, (const struct sockaddr *)&un));
}
END_TEST

/* --- conf: fetch_allow, fetch_ca_file, fetch_timeout, max size ---------- */

START_TEST(test_conf_fetch_defaults)
{
	use_conf("");
	ck_assert_int_eq(conf->fetch_timeout, 5);
	ck_assert_int_eq(conf->metadata_document_max_size, 5120);
	ck_assert_uint_eq(conf->nfetch_allow, 0);
	ck_assert_ptr_null(conf->fetch_allow);
	ck_assert_ptr_null(conf->fetch_ca_file);
}
END_TEST

START_TEST(test_conf_fetch_allow_entries)
{
	static const unsigned char ten[4] = { 10, 0, 0, 0 };
	const struct mcpauth_conf_allow *a;

	use_conf("fetch_allow = 127.0.0.1  10.0.0.0/8\tfd00::/8 "
		 "Docs.Internal.\n");
	ck_assert_uint_eq(conf->nfetch_allow, 4);
	a = conf->fetch_allow;
	ck_assert_int_eq(a[0].family, AF_INET);
	ck_assert_uint_eq(a[0].bits, 32);
	ck_assert_ptr_null(a[0].host);
	ck_assert_int_eq(a[1].family, AF_INET);
	ck_assert_uint_eq(a[1].bits, 8);
	ck_assert_mem_eq(a[1].addr, ten, 4);
	ck_assert_int_eq(a[2].family, AF_INET6);
	ck_assert_uint_eq(a[2].bits, 8);
	ck_assert_uint_eq(a[2].addr[0], 0xfd);
	/* Host names are compared lower case and without the final dot. */
	ck_assert_str_eq(a[3].host, "docs.internal");
}
END_TEST

/* Asserts the line fails, naming the key and quoting entry. */
static void assert_conf_refused(const char *line, const char *key,
				const char *entry)
{
	struct mcpauth_err err;
	struct mcpauth_conf *c = load(line, &err);
	char quoted[128];

	ck_assert_msg(c == NULL, "%s: accepted", line);
	mcpauth_conf_free(c);
	ck_assert_msg(strstr(err.description, key) != NULL, "%s: %s", line,
		      err.description);
	snprintf(quoted, sizeof(quoted), "'%s'", entry);
	ck_assert_msg(strstr(err.description, quoted) != NULL, "%s: %s",
		      line, err.description);
}

START_TEST(test_conf_fetch_allow_bad_prefix_refused)
{
	assert_conf_refused("fetch_allow = 127.0.0.1 10.0.0.0/33\n",
			    "fetch_allow", "10.0.0.0/33");
	assert_conf_refused("fetch_allow = ::1/129\n", "fetch_allow",
			    "::1/129");
	assert_conf_refused("fetch_allow = 10.0.0.1/\n", "fetch_allow",
			    "10.0.0.1/");
	assert_conf_refused("fetch_allow = 1.2.3.4/x\n", "fetch_allow",
			    "1.2.3.4/x");
}
END_TEST

START_TEST(test_conf_fetch_allow_bad_host_refused)
{
	assert_conf_refused("fetch_allow = bad_host!\n", "fetch_allow",
			    "bad_host!");
}
END_TEST

START_TEST(test_conf_fetch_timeout_range)
{
	assert_conf_refused("fetch_timeout = 0\n", "fetch_timeout", "0");
	assert_conf_refused("fetch_timeout = 61\n", "fetch_timeout", "61");
	use_conf("fetch_timeout = 1m\n");
	ck_assert_int_eq(conf->fetch_timeout, 60);
}
END_TEST

START_TEST(test_conf_metadata_document_max_size_units)
{
	use_conf("metadata_document_max_size = 4k\n");
	ck_assert_int_eq(conf->metadata_document_max_size, 4096);
	assert_conf_refused("metadata_document_max_size = 511\n",
			    "metadata_document_max_size", "511");
	assert_conf_refused("metadata_document_max_size = 65k\n",
			    "metadata_document_max_size", "65k");
}
END_TEST

START_TEST(test_conf_fetch_ca_file_relative_to_conf)
{
	char want[4200];

	use_conf("fetch_ca_file = ca.pem\n");
	snprintf(want, sizeof(want), "%s/ca.pem", dir);
	ck_assert_str_eq(conf->fetch_ca_file, want);
}
END_TEST

/* --- mcpauth_fetch_get: refusals that never reach a listener ------------ */

static void get_setup(void)
{
	conf_setup();
	lfd4 = check_listen(AF_INET, "127.0.0.1", &port4);
	ck_assert_int_ge(lfd4, 0);
	/*
	 * ::1 may be missing (IPv6 disabled): then the [::1] case is skipped.
	 * Its port must differ from port4, or curl trying ::1 for localhost
	 * would land on it.
	 */
	for (int i = 0; i < 3; i++) {
		lfd6 = check_listen(AF_INET6, "::1", &port6);
		if (lfd6 < 0 || port6 != port4)
			break;
		close(lfd6);
		lfd6 = -1;
	}
}

static void get_teardown(void)
{
	if (lfd4 >= 0)
		close(lfd4);
	if (lfd6 >= 0)
		close(lfd6);
	lfd4 = lfd6 = -1;
	conf_teardown();
}

static void curl_up(void)
{
	ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
}

static void curl_down(void)
{
	curl_global_cleanup();
}

/* The URL printf makes of fmt (static storage, valid until the next call). */
static const char *url_of(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *url_of(const char *fmt, ...)
{
	static char url[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(url, sizeof(url), fmt, ap);
	va_end(ap);
	return url;
}

/* https://host:port4/x, port4 the IPv4 listener's (static storage too). */
static const char *at(const char *host)
{
	return url_of("https://%s:%d/x", host, port4);
}

/* GETs url, which must fail as 400 invalid_client; its description in err. */
static void get_fails(const char *url, struct mcpauth_err *err)
{
	struct mcpauth_fetch *out = NULL;

	mcpauth_err_clear(err);
	ck_assert_msg(!mcpauth_fetch_get(conf, url, 5120, &out, err),
		      "%s fetched", url);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(err->status, 400);
	ck_assert_str_eq(err->code, "invalid_client");
}

static void assert_no_connection(const char *url)
{
	ck_assert_msg(check_pending(lfd4) == 0, "%s reached 127.0.0.1", url);
	ck_assert_msg(check_pending(lfd6) == 0, "%s reached ::1", url);
}

/* url is refused with a description that holds words, and connects nowhere. */
static void assert_refused(const char *url, const char *words)
{
	struct mcpauth_err err;

	get_fails(url, &err);
	ck_assert_msg(strstr(err.description, words) != NULL, "%s: %s", url,
		      err.description);
	assert_no_connection(url);
}

/*
 * url is refused either by the address check or, when curl's parser
 * rejects the spelling, as an invalid URL; and connects nowhere.
 */
static void assert_not_fetched(const char *url)
{
	struct mcpauth_err err;

	get_fails(url, &err);
	ck_assert_msg(strstr(err.description, "does not fetch from") ||
			      strstr(err.description, "not a valid https URL"),
		      "%s: %s", url, err.description);
	assert_no_connection(url);
}

/*
 * The URL rules, checked with 127.0.0.1 allowed: only the rule itself
 * stands between each URL and the listener.
 */
#define ALLOW_LOOPBACK "fetch_timeout = 2\nfetch_allow = 127.0.0.1\n"

START_TEST(test_get_refuses_http)
{
	use_conf(ALLOW_LOOPBACK);
	assert_refused(url_of("http://127.0.0.1:%d/doc", port4),
		       "must use https");
}
END_TEST

START_TEST(test_get_refuses_other_schemes)
{
	use_conf(ALLOW_LOOPBACK);
	assert_refused(url_of("ftp://127.0.0.1:%d/doc", port4),
		       "must use https");
}
END_TEST

START_TEST(test_get_refuses_user_information)
{
	use_conf(ALLOW_LOOPBACK);
	assert_refused(url_of("https://user:pw@127.0.0.1:%d/doc", port4),
		       "user information");
}
END_TEST

START_TEST(test_get_refuses_fragment)
{
	use_conf(ALLOW_LOOPBACK);
	assert_refused(url_of("https://127.0.0.1:%d/doc#frag", port4),
		       "fragment");
}
END_TEST

START_TEST(test_get_refuses_space)
{
	use_conf(ALLOW_LOOPBACK);
	assert_refused(url_of("https://127.0.0.1:%d/a doc", port4), "space");
}
END_TEST

START_TEST(test_get_refuses_url_longer_than_2048)
{
	char url[2100];
	int n;

	use_conf(ALLOW_LOOPBACK);
	n = snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port4);
	memset(url + n, 'a', 2049 - (size_t)n);
	url[2049] = '\0';
	assert_refused(url, "longer than 2048");
}
END_TEST

/*
 * Loopback spelled every way: with no fetch_allow, each is refused before
 * a socket is opened. "address": refused by the address check, as seen
 * with libcurl 7.88.1 (none was refused by curl's URL parser).
 */
#define NO_ALLOW "fetch_timeout = 2\n"

START_TEST(test_get_refuses_loopback_address)
{
	use_conf(NO_ALLOW);
	assert_not_fetched(at("127.0.0.1")); /* address */
}
END_TEST

START_TEST(test_get_refuses_localhost)
{
	use_conf(NO_ALLOW);
	assert_not_fetched(at("localhost")); /* address */
}
END_TEST

/*
 * curl resolves "localhost" itself but hands "localhost." to the system
 * resolver: where that answers (systemd-resolved does, RFC 6761 §6.3) the
 * address check refuses it; here it did not resolve at all. Either way no
 * connection.
 */
START_TEST(test_get_refuses_localhost_trailing_dot)
{
	struct mcpauth_err err;
	const char *url = at("localhost.");

	use_conf(NO_ALLOW);
	get_fails(url, &err);
	ck_assert_msg(strstr(err.description, "does not fetch from") ||
			      strstr(err.description, "does not resolve"),
		      "%s: %s", url, err.description);
	assert_no_connection(url);
}
END_TEST

/* curl reads inet_aton's forms: one number, hex, octal, fewer parts. */
START_TEST(test_get_refuses_numeric_ipv4_spellings)
{
	use_conf(NO_ALLOW);
	assert_not_fetched(at("2130706433")); /* address */
	assert_not_fetched(at("0x7f000001")); /* address */
	assert_not_fetched(at("0x7f.0.0.1")); /* address */
	assert_not_fetched(at("0177.0.0.1")); /* address */
	assert_not_fetched(at("127.1"));      /* address */
}
END_TEST

START_TEST(test_get_refuses_ipv4_mapped_loopback)
{
	use_conf(NO_ALLOW);
	assert_not_fetched(at("[::ffff:127.0.0.1]")); /* address */
	assert_not_fetched(at("[::ffff:7f00:1]"));    /* address */
}
END_TEST

START_TEST(test_get_refuses_ipv6_loopback)
{
	use_conf(NO_ALLOW);
	if (lfd6 < 0)
		return; /* no ::1 here: nothing to prove unreachable */
	assert_not_fetched(url_of("https://[::1]:%d/x", port6)); /* address */
}
END_TEST

/* Connecting to 0.0.0.0 reaches the local host on Linux. */
START_TEST(test_get_refuses_unspecified)
{
	use_conf(NO_ALLOW);
	assert_not_fetched(at("0.0.0.0")); /* address */
}
END_TEST

/* Accepts one connection on fd and closes it at once, so curl fails fast. */
struct acceptor {
	pthread_t thread;
	int fd;
	int accepted;
};

static void *accept_one(void *arg)
{
	struct acceptor *a = arg;
	struct pollfd p = { .fd = a->fd, .events = POLLIN };
	int c;

	/* A bound, not a measure: a fetch that never connects ends the wait. */
	if (poll(&p, 1, 10000) == 1 && (c = accept(a->fd, NULL, NULL)) >= 0) {
		close(c);
		a->accepted++;
	}
	return NULL;
}

/* GETs url with an acceptor on 127.0.0.1; returns the connections made. */
static int connections_made(const char *url, struct mcpauth_err *err)
{
	struct acceptor a = { .fd = lfd4 };

	ck_assert_int_eq(pthread_create(&a.thread, NULL, accept_one, &a), 0);
	get_fails(url, err);
	ck_assert_int_eq(pthread_join(a.thread, NULL), 0);
	return a.accepted + check_pending(lfd4);
}

/* The listener never speaks TLS: the fetch fails, but only after connecting. */
START_TEST(test_get_allowed_address_reaches_listener)
{
	struct mcpauth_err err;

	use_conf(ALLOW_LOOPBACK);
	ck_assert_int_eq(connections_made(at("127.0.0.1"), &err), 1);
	ck_assert_ptr_null(strstr(err.description, "does not fetch from"));
	ck_assert_int_eq(check_pending(lfd6), 0);
}
END_TEST

START_TEST(test_get_allowed_host_name_reaches_listener)
{
	struct mcpauth_err err;

	use_conf("fetch_timeout = 2\nfetch_allow = localhost\n");
	ck_assert_int_eq(connections_made(at("localhost"), &err), 1);
	ck_assert_ptr_null(strstr(err.description, "does not fetch from"));
	ck_assert_int_eq(check_pending(lfd6), 0);
}
END_TEST

/* Allowing the name localhost does not allow 127.0.0.1 spelled out. */
START_TEST(test_get_host_entry_does_not_allow_its_address)
{
	use_conf("fetch_timeout = 2\nfetch_allow = localhost\n");
	assert_refused(at("127.0.0.1"), "does not fetch from");
}
END_TEST

/* --- fixes after review ------------------------------------------------- */

/* An IPv4-mapped entry is stored as the IPv4 address it maps. */
START_TEST(test_conf_fetch_allow_ipv4_mapped_stored_as_ipv4)
{
	static const unsigned char lo[4] = { 127, 0, 0, 1 };
	const struct mcpauth_conf_allow *a;

	use_conf("fetch_allow = ::ffff:127.0.0.1\n");
	ck_assert_uint_eq(conf->nfetch_allow, 1);
	a = conf->fetch_allow;
	ck_assert_ptr_null(a[0].host);
	ck_assert_int_eq(a[0].family, AF_INET);
	ck_assert_uint_eq(a[0].bits, 32);
	ck_assert_mem_eq(a[0].addr, lo, 4);
}
END_TEST

START_TEST(test_conf_fetch_allow_ipv4_mapped_allows_ipv4)
{
	use_conf("fetch_allow = ::ffff:127.0.0.1\n");
	ck_assert(allowed("127.0.0.1"));
	ck_assert(allowed("::ffff:127.0.0.1"));
	ck_assert(!allowed("127.0.0.2"));
}
END_TEST

/* ::ffff:10.0.0.0/104: 96 bits of mapping prefix, then 10.0.0.0/8. */
START_TEST(test_conf_fetch_allow_mapped_prefix_becomes_ipv4)
{
	static const unsigned char ten[4] = { 10, 0, 0, 0 };
	const struct mcpauth_conf_allow *a;

	use_conf("fetch_allow = ::ffff:10.0.0.0/104\n");
	a = conf->fetch_allow;
	ck_assert_int_eq(a[0].family, AF_INET);
	ck_assert_uint_eq(a[0].bits, 8);
	ck_assert_mem_eq(a[0].addr, ten, 4);
	ck_assert(allowed("10.200.1.1"));
	ck_assert(!allowed("11.0.0.1"));
}
END_TEST

/* Shorter than /96 the range holds more than IPv4-mapped addresses. */
START_TEST(test_conf_fetch_allow_mapped_under_96_refused)
{
	assert_conf_refused("fetch_allow = ::ffff:0:0/95\n", "fetch_allow",
			    "::ffff:0:0/95");
}
END_TEST

/*
 * Spellings curl reads as IPv4 addresses (inet_aton's forms) but inet_pton
 * does not: as host names they would never match the URL's host.
 */
START_TEST(test_conf_fetch_allow_numeric_hosts_refused)
{
	static const char *const entries[] = { "127.1", "2130706433",
					       "0x7f000001", "010.0.0.1" };
	struct mcpauth_err err;
	char line[64];

	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		snprintf(line, sizeof(line), "fetch_allow = %s\n", entries[i]);
		assert_conf_refused(line, "fetch_allow", entries[i]);
		ck_assert_ptr_null(load(line, &err));
		ck_assert_msg(strstr(err.description, "is no host name") !=
				      NULL,
			      "%s: %s", line, err.description);
	}
}
END_TEST

/* An '@' in the path is no user information: the address check decides. */
START_TEST(test_get_at_sign_in_path_refused_for_its_address)
{
	struct mcpauth_err err;
	const char *url = url_of("https://127.0.0.1:%d/c/@alice", port4);

	use_conf(NO_ALLOW);
	get_fails(url, &err);
	ck_assert_msg(strstr(err.description, "does not fetch from") != NULL,
		      "%s: %s", url, err.description);
	ck_assert_ptr_null(strstr(err.description, "user information"));
	assert_no_connection(url);
}
END_TEST

START_TEST(test_get_address_refusal_names_the_range)
{
	struct mcpauth_err err;

	use_conf(NO_ALLOW);
	get_fails(at("127.0.0.1"), &err);
	ck_assert_str_eq(err.description,
			 "the document's host resolves to an address mcpauth "
			 "does not fetch from: loopback (127.0.0.0/8)");
	assert_no_connection(at("127.0.0.1"));
}
END_TEST

Suite *check_fetch_suite(void)
{
	Suite *s = suite_create("fetch");
	TCase *tc = tcase_create("special_use");

	tcase_add_test(tc, test_special_ipv4_loopback);
	tcase_add_test(tc, test_special_ipv4_unspecified);
	tcase_add_test(tc, test_special_ipv4_private);
	tcase_add_test(tc, test_special_ipv4_link_local_cloud_metadata);
	tcase_add_test(tc, test_special_ipv4_shared_address_space);
	tcase_add_test(tc, test_special_ipv4_multicast_and_broadcast);
	tcase_add_test(tc, test_special_ipv4_benchmarking_and_documentation);
	tcase_add_test(tc, test_special_ipv4_global_allowed);
	tcase_add_test(tc, test_special_ipv6_unspecified_and_loopback);
	tcase_add_test(tc, test_special_ipv6_mapped_judged_as_ipv4);
	tcase_add_test(tc, test_special_ipv6_nat64_judged_as_ipv4);
	tcase_add_test(tc, test_special_ipv6_ipv4_compatible);
	tcase_add_test(tc, test_special_ipv6_unique_local);
	tcase_add_test(tc, test_special_ipv6_link_and_site_local);
	tcase_add_test(tc, test_special_ipv6_multicast);
	tcase_add_test(tc, test_special_ipv6_documentation);
	tcase_add_test(tc, test_special_ipv6_6to4);
	tcase_add_test(tc, test_special_ipv6_teredo);
	tcase_add_test(tc, test_special_ipv6_outside_global_unicast);
	tcase_add_test(tc, test_special_ipv6_global_allowed);
	tcase_add_test(tc, test_special_unix_socket_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("address_allowed");
	tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
	tcase_add_test(tc, test_allowed_exact_ipv4);
	tcase_add_test(tc, test_allowed_ipv4_mapped_matches_ipv4_entry);
	tcase_add_test(tc, test_allowed_ipv4_prefix);
	tcase_add_test(tc, test_allowed_ipv6_prefix);
	tcase_add_test(tc, test_allowed_host_entry_allows_no_address);
	tcase_add_test(tc, test_allowed_prefix_boundaries);
	tcase_add_test(tc, test_allowed_nothing_by_default);
	suite_add_tcase(s, tc);

	tc = tcase_create("conf");
	tcase_add_checked_fixture(tc, conf_setup, conf_teardown);
	tcase_add_test(tc, test_conf_fetch_defaults);
	tcase_add_test(tc, test_conf_fetch_allow_entries);
	tcase_add_test(tc, test_conf_fetch_allow_bad_prefix_refused);
	tcase_add_test(tc, test_conf_fetch_allow_bad_host_refused);
	tcase_add_test(tc, test_conf_fetch_timeout_range);
	tcase_add_test(tc, test_conf_metadata_document_max_size_units);
	tcase_add_test(tc, test_conf_fetch_ca_file_relative_to_conf);
	tcase_add_test(tc, test_conf_fetch_allow_ipv4_mapped_stored_as_ipv4);
	tcase_add_test(tc, test_conf_fetch_allow_ipv4_mapped_allows_ipv4);
	tcase_add_test(tc, test_conf_fetch_allow_mapped_prefix_becomes_ipv4);
	tcase_add_test(tc, test_conf_fetch_allow_mapped_under_96_refused);
	tcase_add_test(tc, test_conf_fetch_allow_numeric_hosts_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("get");
	tcase_add_unchecked_fixture(tc, curl_up, curl_down);
	tcase_add_checked_fixture(tc, get_setup, get_teardown);
	tcase_add_test(tc, test_get_refuses_http);
	tcase_add_test(tc, test_get_refuses_other_schemes);
	tcase_add_test(tc, test_get_refuses_user_information);
	tcase_add_test(tc, test_get_refuses_fragment);
	tcase_add_test(tc, test_get_refuses_space);
	tcase_add_test(tc, test_get_refuses_url_longer_than_2048);
	tcase_add_test(tc, test_get_refuses_loopback_address);
	tcase_add_test(tc, test_get_refuses_localhost);
	tcase_add_test(tc, test_get_refuses_localhost_trailing_dot);
	tcase_add_test(tc, test_get_refuses_numeric_ipv4_spellings);
	tcase_add_test(tc, test_get_refuses_ipv4_mapped_loopback);
	tcase_add_test(tc, test_get_refuses_ipv6_loopback);
	tcase_add_test(tc, test_get_refuses_unspecified);
	tcase_add_test(tc, test_get_allowed_address_reaches_listener);
	tcase_add_test(tc, test_get_allowed_host_name_reaches_listener);
	tcase_add_test(tc, test_get_host_entry_does_not_allow_its_address);
	tcase_add_test(tc, test_get_at_sign_in_path_refused_for_its_address);
	tcase_add_test(tc, test_get_address_refusal_names_the_range);
	/* Fetches under valgrind; the fetch_timeout bound is 2 s each. */
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
