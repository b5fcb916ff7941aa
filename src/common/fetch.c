/* fetch.c: outbound HTTP through libcurl, refusing what a client must not make us fetch. */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fetch.h"

#define MAX_URL 2048

#ifndef MCPAUTH_VERSION
#define MCPAUTH_VERSION "dev"
#endif

/* One request's state, shared with curl's callbacks. */
struct ctx {
	const struct mcpauth_conf *conf;
	bool host_allowed; /* fetch_allow names the URL's host */
	size_t max;
	char *buf;
	size_t len;
	bool too_big;
	const char *refused; /* why an address was refused, or NULL */
	char refused_addr[INET6_ADDRSTRLEN];
	char *content_type;
	bool no_cache;
	long max_age;       /* Cache-Control max-age, -1: none */
	long long expires;  /* Expires, 0: none */
	long long date;     /* Date, 0: none */
};

void mcpauth_fetch_free(struct mcpauth_fetch *fetch)
{
	if (fetch == NULL)
		return;
	free(fetch->body);
	free(fetch->content_type);
	free(fetch);
}

/* IANA IPv4 Special-Purpose Address Registry (RFC 6890 and later). */
static const struct {
	uint32_t net;
	unsigned bits;
	const char *what;
} V4[] = {
	{ 0x00000000, 8, "unspecified (0.0.0.0/8)" },
	{ 0x0a000000, 8, "private (10.0.0.0/8)" },
	{ 0x64400000, 10, "shared address space (100.64.0.0/10)" },
	{ 0x7f000000, 8, "loopback (127.0.0.0/8)" },
	{ 0xa9fe0000, 16, "link-local (169.254.0.0/16)" },
	{ 0xac100000, 12, "private (172.16.0.0/12)" },
	{ 0xc0000000, 24, "IETF protocol assignments (192.0.0.0/24)" },
	{ 0xc0000200, 24, "documentation (192.0.2.0/24)" },
	{ 0xc0586300, 24, "6to4 relay anycast (192.88.99.0/24)" },
	{ 0xc0a80000, 16, "private (192.168.0.0/16)" },
	{ 0xc6120000, 15, "benchmarking (198.18.0.0/15)" },
	{ 0xc6336400, 24, "documentation (198.51.100.0/24)" },
	{ 0xcb007100, 24, "documentation (203.0.113.0/24)" },
	{ 0xe0000000, 4, "multicast (224.0.0.0/4)" },
	{ 0xf0000000, 4, "reserved or broadcast (240.0.0.0/4)" },
};

static const char *v4_special(const unsigned char *b)
{
	uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		     (uint32_t)b[2] << 8 | b[3];

	for (size_t i = 0; i < sizeof(V4) / sizeof(V4[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - V4[i].bits);
		if ((a & mask) == V4[i].net)
			return V4[i].what;
	}
	return NULL;
}

static const unsigned char ZERO[16];

/* IANA IPv6 Special-Purpose Address Registry; only 2000::/3 is global. */
static const char *v6_special(const unsigned char *a)
{
	if (!memcmp(a, ZERO, 15) && a[15] == 0)
		return "unspecified (::)";
	if (!memcmp(a, ZERO, 15) && a[15] == 1)
		return "loopback (::1)";
	/* ::ffff:0:0/96 (IPv4-mapped) and 64:ff9b::/96 (NAT64, RFC 6052)
	 * reach the IPv4 address inside. */
	if (!memcmp(a, ZERO, 10) && a[10] == 0xff && a[11] == 0xff)
		return v4_special(a + 12);
	if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b &&
	    !memcmp(a + 4, ZERO, 8))
		return v4_special(a + 12);
	if (!memcmp(a, ZERO, 12))
		return "IPv4-compatible (::/96)";
	if ((a[0] & 0xfe) == 0xfc)
		return "unique local (fc00::/7)";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "link-local (fe80::/10)";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return "site-local (fec0::/10)";
	if (a[0] == 0xff)
		return "multicast (ff00::/8)";
	if ((a[0] & 0xe0) != 0x20)
		return "not global unicast (outside 2000::/3)";
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return "documentation (2001:db8::/32)";
	if (a[0] == 0x20 && a[1] == 0x01 && (a[2] & 0xfe) == 0)
		return "IETF protocol assignments (2001::/23)";
	if (a[0] == 0x20 && a[1] == 0x02)
		return "6to4 (2002::/16)";
	if (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0)
		return "documentation (3fff::/20)";
	return NULL;
}

const char *mcpauth_fetch_special_use(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return v4_special((const unsigned char *)&(
			(const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return v6_special(((const struct sockaddr_in6 *)(const void *)sa)
					  ->sin6_addr.s6_addr);
	return "not an internet address";
}

/* The address as (family, bytes), IPv4-mapped IPv6 as IPv4. */
static int address_of(const struct sockaddr *sa, unsigned char out[16])
{
	const unsigned char *a;

	if (sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)(const void *)sa)
				      ->sin_addr, 4);
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	if (!memcmp(a, ZERO, 10) && a[10] == 0xff && a[11] == 0xff) {
		memcpy(out, a + 12, 4);
		return AF_INET;
	}
	memcpy(out, a, 16);
	return AF_INET6;
}

bool mcpauth_fetch_address_allowed(const struct mcpauth_conf *conf,
				   const struct sockaddr *sa)
{
	unsigned char a[16];
	int family = address_of(sa, a);

	for (size_t i = 0; family != 0 && i < conf->nfetch_allow; i++) {
		const struct mcpauth_conf_allow *e = &conf->fetch_allow[i];
		unsigned full = e->bits / 8, rest = e->bits % 8;
		if (e->host != NULL || e->family != family)
			continue;
		if (memcmp(a, e->addr, full) != 0)
			continue;
		if (rest != 0 &&
		    ((a[full] ^ e->addr[full]) & (0xff << (8 - rest)) & 0xff))
			continue;
		return true;
	}
	return false;
}

static void address_text(const struct sockaddr *sa, char *dst, size_t size)
{
	const void *a = sa->sa_family == AF_INET
		? (const void *)&((const struct sockaddr_in *)(const void *)sa)
			  ->sin_addr
		: (const void *)&((const struct sockaddr_in6 *)(const void *)sa)
			  ->sin6_addr;

	if (inet_ntop(sa->sa_family, a, dst, (socklen_t)size) == NULL)
		snprintf(dst, size, "?");
}

/*
 * Called by curl for each address it is about to connect to, after its one
 * resolution: the check and the connection use the same address.
 */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose,
				 struct curl_sockaddr *a)
{
	struct ctx *c = clientp;
	const char *why;

	if (purpose != CURLSOCKTYPE_IPCXN) {
		c->refused = "not a direct connection";
		return CURL_SOCKET_BAD;
	}
	if (!c->host_allowed &&
	    !mcpauth_fetch_address_allowed(c->conf, &a->addr) &&
	    (why = mcpauth_fetch_special_use(&a->addr)) != NULL) {
		c->refused = why;
		address_text(&a->addr, c->refused_addr,
			     sizeof(c->refused_addr));
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static size_t on_body(char *data, size_t size, size_t n, void *clientp)
{
	struct ctx *c = clientp;
	size_t len = size * n;
	char *nb;

	if (len > c->max - c->len) {
		c->too_big = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	if ((nb = realloc(c->buf, c->len + len + 1)) == NULL)
		return 0;
	c->buf = nb;
	memcpy(c->buf + c->len, data, len);
	c->len += len;
	c->buf[c->len] = '\0';
	return len;
}

/* Cache-Control (RFC 9111 §5.2.2): no-store, no-cache, max-age. */
static void cache_control(struct ctx *c, const char *v)
{
	for (const char *p = v; *p; p++) {
		if (p != v && p[-1] != ' ' && p[-1] != ',' && p[-1] != '\t')
			continue;
		if (!strncasecmp(p, "no-store", 8) ||
		    !strncasecmp(p, "no-cache", 8) ||
		    !strncasecmp(p, "private", 7))
			c->no_cache = true;
		else if (!strncasecmp(p, "max-age=", 8) &&
			 isdigit((unsigned char)p[8]))
			c->max_age = strtol(p + 8, NULL, 10) > 0x7fffffffL
					     ? 0x7fffffffL
					     : strtol(p + 8, NULL, 10);
	}
}

static size_t on_header(char *data, size_t size, size_t n, void *clientp)
{
	struct ctx *c = clientp;
	size_t len = size * n;
	char line[512], *v;

	if (len >= sizeof(line))
		return len; /* no header we read is that long */
	memcpy(line, data, len);
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if ((v = strchr(line, ':')) == NULL)
		return len;
	*v++ = '\0';
	v += strspn(v, " \t");
	if (!strcasecmp(line, "Content-Type")) {
		free(c->content_type);
		c->content_type = strdup(v);
	} else if (!strcasecmp(line, "Cache-Control")) {
		cache_control(c, v);
	} else if (!strcasecmp(line, "Expires")) {
		time_t t = curl_getdate(v, NULL);
		c->expires = t > 0 ? (long long)t : 1; /* invalid: expired */
	} else if (!strcasecmp(line, "Date")) {
		time_t t = curl_getdate(v, NULL);
		c->date = t > 0 ? (long long)t : 0;
	}
	return len;
}

/* The URL, checked before curl sees it: https, no userinfo or fragment. */
static bool url_ok(const char *url, CURLU *u, struct mcpauth_err *err)
{
	char *user = NULL, *pass = NULL, *frag = NULL, *scheme = NULL;
	size_t len = strlen(url), auth_len;
	bool ok = false;

	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
			MCPAUTH_ERR(err, 400, "invalid_client",
				    "the document URL has a space, control or "
				    "non-ASCII character");
			return false;
		}
	}
	if (len > MAX_URL) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document URL is longer than %d characters",
			    MAX_URL);
		return false;
	}
	if (strncasecmp(url, "https://", 8) != 0) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document URL must use https");
		return false;
	}
	if (strchr(url, '#') != NULL) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document URL must not have a fragment");
		return false;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    strcmp(scheme, "https") != 0) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document URL is not a valid https URL");
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
	/* An '@' in the authority is user information, whatever curl
	 * made of it; later ones (a path, a query) are not. */
	auth_len = strcspn(url + 8, "/?#");
	if (user != NULL || pass != NULL ||
	    memchr(url + 8, '@', auth_len) != NULL) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document URL must not have user information");
		goto out;
	}
	if (frag != NULL) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document URL must not have a fragment");
		goto out;
	}
	ok = true;
out:
	curl_free(user);
	curl_free(pass);
	curl_free(frag);
	curl_free(scheme);
	return ok;
}

/*
 * The URL's host as one spelling: lower case, no final dot, an IPv6
 * literal in inet_ntop's form without brackets, IPv4-mapped as the IPv4
 * address (curl already writes IPv4 literals in dotted decimal).
 */
static bool canonical_host(CURLU *u, char *out, size_t size)
{
	char *host = NULL, *h;
	unsigned char a[16];
	size_t len;

	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		return false;
	h = host;
	for (char *c = h; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	len = strlen(h);
	if (len > 1 && h[len - 1] == '.')
		h[--len] = '\0';
	if (len > 2 && h[0] == '[' && h[len - 1] == ']') {
		h[len - 1] = '\0';
		h++;
	}
	/* A host too long for out is no host at all (never a prefix). */
	if (inet_pton(AF_INET6, h, a) != 1 ||
	    (!memcmp(a, ZERO, 10) && a[10] == 0xff && a[11] == 0xff
		     ? inet_ntop(AF_INET, a + 12, out, (socklen_t)size)
		     : inet_ntop(AF_INET6, a, out, (socklen_t)size)) == NULL)
		len = (size_t)snprintf(out, size, "%s", h);
	else
		len = 0;
	curl_free(host);
	return len < size;
}

bool mcpauth_fetch_host_key(const char *url, char *out, size_t size)
{
	CURLU *u = curl_url();
	bool ok = u != NULL &&
		  curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
		  canonical_host(u, out, size);

	curl_url_cleanup(u);
	return ok;
}

/* True when fetch_allow names the URL's host. */
static bool host_allowed(const struct mcpauth_conf *conf, CURLU *u)
{
	char host[256];
	bool found = false;

	if (!canonical_host(u, host, sizeof(host)))
		return false;
	for (size_t i = 0; i < conf->nfetch_allow && !found; i++)
		found = conf->fetch_allow[i].host != NULL &&
			!strcmp(conf->fetch_allow[i].host, host);
	return found;
}

static bool perform(const struct mcpauth_conf *conf, const char *url,
		    CURLU *u, struct ctx *c, long *status,
		    struct mcpauth_err *err)
{
	CURL *h = curl_easy_init();
	struct curl_slist *headers = NULL;
	CURLcode rc;
	bool ok = false;

	if (h == NULL ||
	    (headers = curl_slist_append(NULL, "Accept: application/json")) ==
		    NULL) {
		MCPAUTH_ERR_INTERNAL(err, "curl_easy_init failed");
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_CURLU, u);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 0L);
	/* Environment proxies (https_proxy) would resolve and connect
	 * somewhere we never checked. */
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, conf->fetch_timeout);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, conf->fetch_timeout);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (conf->fetch_ca_file != NULL) {
		curl_easy_setopt(h, CURLOPT_CAINFO, conf->fetch_ca_file);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(h, CURLOPT_USERAGENT, "mcpauth/" MCPAUTH_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, c);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);

	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	/* An address refused while another one answered is no failure: no
	 * connection went to the refused one. */
	if (c->refused != NULL && rc != CURLE_OK) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document's host resolves to an address "
			    "mcpauth does not fetch from: %s",
			    c->refused);
		mcpauth_err_detail(err, "fetch %.200s: refused address %s",
				   url, c->refused_addr);
	} else if (c->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document is larger than %zu bytes", c->max);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "fetching the document took longer than %ld "
			    "seconds", conf->fetch_timeout);
	} else if (rc == CURLE_COULDNT_RESOLVE_HOST) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document's host name does not resolve");
	} else if (rc == CURLE_PEER_FAILED_VERIFICATION ||
		   rc == CURLE_SSL_CACERT_BADFILE) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document's server failed TLS verification");
		mcpauth_err_detail(err, "fetch %.200s: %s", url,
				   curl_easy_strerror(rc));
	} else if (rc == CURLE_SSL_CONNECT_ERROR) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the TLS handshake with the document's server "
			    "failed");
		mcpauth_err_detail(err, "fetch %.200s: %s", url,
				   curl_easy_strerror(rc));
	} else if (rc != CURLE_OK) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document could not be fetched (%s)",
			    curl_easy_strerror(rc));
	} else if (*status >= 300 && *status < 400) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document's server answered with a redirect "
			    "(HTTP %ld), and redirects are not followed",
			    *status);
	} else if (*status != 200) {
		MCPAUTH_ERR(err, 400, "invalid_client",
			    "the document's server answered HTTP %ld, not 200",
			    *status);
	} else {
		ok = true;
	}
out:
	curl_slist_free_all(headers);
	if (h != NULL)
		curl_easy_cleanup(h);
	return ok;
}

bool mcpauth_fetch_get(const struct mcpauth_conf *conf, const char *url,
		       size_t max_bytes, struct mcpauth_fetch **out,
		       struct mcpauth_err *err)
{
	struct ctx c = { .conf = conf, .max = max_bytes, .max_age = -1 };
	struct mcpauth_fetch *f = NULL;
	CURLU *u = curl_url();
	long status = 0;
	bool ok = false;

	if (u == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	if (!url_ok(url, u, err))
		goto out;
	c.host_allowed = host_allowed(conf, u);
	if (!perform(conf, url, u, &c, &status, err))
		goto out;
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	if (c.buf == NULL && (c.buf = strdup("")) == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	f->body = c.buf;
	f->len = c.len;
	f->content_type = c.content_type;
	c.buf = NULL;
	c.content_type = NULL;
	if (c.no_cache) {
		f->max_age = 0;
	} else if (c.max_age >= 0) {
		f->max_age = c.max_age;
	} else if (c.expires != 0) {
		long long base = c.date != 0 ? c.date : (long long)time(NULL);
		f->max_age = c.expires > base ? (long)(c.expires - base) : 0;
	} else {
		f->max_age = -1;
	}
	*out = f;
	f = NULL;
	ok = true;
out:
	if (!ok && err != NULL && err->detail[0] == '\0')
		mcpauth_err_detail(err, "fetch %.200s", url);
	mcpauth_fetch_free(f);
	free(c.buf);
	free(c.content_type);
	curl_url_cleanup(u);
	return ok;
}
