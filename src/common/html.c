/*
 * html.c: the browser pages (login, consent, error) rendered from operator-
 * editable templates in www/, a tiny mustache subset that always escapes.
 * A template is parsed whole into a flat node list before anything is
 * rendered, so a malformed one fails the same way whatever the values; the
 * page is then rendered twice, once to measure and once to write.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "html.h"

/* Node visits per render: bounds the work of nested list sections. */
#define MAX_STEPS (1UL << 22)

enum kind { TEXT, VAR, DOT, SECTION, INVERTED };

struct node {
	enum kind kind;
	const char *s; /* TEXT: the text; otherwise the name (in src) */
	size_t len;
	size_t end; /* SECTION, INVERTED: the index just past the body */
};

struct tmpl {
	const char *path;
	char *src; /* NUL-terminated, len bytes, no NUL inside */
	size_t len;
	struct node *nodes;
	size_t count;
	size_t cap;
};

struct render {
	const struct tmpl *t;
	const struct mcpauth_html_var *vars;
	size_t nvars;
	char *out; /* NULL while measuring */
	size_t len;
	size_t limit;
	unsigned long steps;
	bool over;
};

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i]))
			return false;
	return true;
}

/* The 1-based line of at in t's source. */
static int line_of(const struct tmpl *t, const char *at)
{
	int line = 1;

	for (const char *p = t->src; p < at; p++)
		if (*p == '\n')
			line++;
	return line;
}

/* Sets the 500 for a malformed template; returns false. */
static bool malformed(const struct tmpl *t, const char *at,
		      struct mcpauth_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool malformed(const struct tmpl *t, const char *at,
		      struct mcpauth_err *err, const char *fmt, ...)
{
	char problem[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	MCPAUTH_ERR_INTERNAL(err, "template %s line %d: %s", t->path,
			     line_of(t, at), problem);
	return false;
}

static bool push(struct tmpl *t, enum kind kind, const char *s, size_t len)
{
	if (t->count == t->cap) {
		size_t cap = t->cap == 0 ? 64 : t->cap * 2;
		struct node *n = realloc(t->nodes, cap * sizeof(*n));

		if (n == NULL)
			return false;
		t->nodes = n;
		t->cap = cap;
	}
	t->nodes[t->count++] = (struct node){kind, s, len, 0};
	return true;
}

/*
 * A comment or section tag alone on its line (spaces and tabs aside) takes
 * the line with it, as in mustache, so templates can be laid out on lines of
 * their own without blank lines in the page: trims the indentation from the
 * text before the tag and returns where the text after the line starts.
 */
static const char *standalone(struct tmpl *t, const char *tag,
			      const char *after)
{
	const char *b = tag, *e = after;
	struct node *last = t->count > 0 ? &t->nodes[t->count - 1] : NULL;

	while (b > t->src && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	if (b > t->src && b[-1] != '\n')
		return after;
	while (*e == ' ' || *e == '\t')
		e++;
	if (*e == '\r' && e[1] == '\n')
		e++;
	if (*e != '\n' && *e != '\0')
		return after;
	if (b < tag && last != NULL && last->kind == TEXT &&
	    last->s + last->len == tag) {
		last->len -= (size_t)(tag - b);
		if (last->len == 0)
			t->count--;
	}
	return *e == '\n' ? e + 1 : e;
}

/* Reads the whole template file into t->src. */
static bool load(struct tmpl *t, struct mcpauth_err *err)
{
	struct stat st;
	size_t want, got = 0;
	bool ok = false;
	int fd;

	/* O_NONBLOCK: a FIFO in place of a template must not hang us. */
	fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		MCPAUTH_ERR_INTERNAL(err, "template %s: %s", t->path,
				     strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		MCPAUTH_ERR_INTERNAL(err, "template %s: not a regular file",
				     t->path);
		goto out;
	}
	if (st.st_size > MCPAUTH_HTML_MAX_TEMPLATE) {
		MCPAUTH_ERR_INTERNAL(err, "template %s: larger than %d bytes",
				     t->path, MCPAUTH_HTML_MAX_TEMPLATE);
		goto out;
	}
	/* One byte more than fstat said, to notice a file that grew. */
	want = (size_t)st.st_size + 1;
	t->src = malloc(want + 1);
	if (t->src == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	while (got < want) {
		ssize_t n = read(fd, t->src + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			MCPAUTH_ERR_INTERNAL(err, "template %s: %s", t->path,
					     strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == want) {
		MCPAUTH_ERR_INTERNAL(
		    err, "template %s: changed while being read", t->path);
		goto out;
	}
	t->src[got] = '\0';
	t->len = got;
	ok = true;
out:
	close(fd);
	return ok;
}

/* Parses t->src into t->nodes, checking the whole template. */
static bool parse(struct tmpl *t, struct mcpauth_err *err)
{
	size_t open[MCPAUTH_HTML_MAX_DEPTH];
	size_t depth = 0, nctx = 0; /* nctx: open {{#}} sections, for {{.}} */
	const char *p = t->src, *end = t->src + t->len;
	const char *nul = memchr(t->src, '\0', t->len);

	if (nul != NULL)
		return malformed(t, nul, err, "a NUL byte");
	while (p < end) {
		const char *tag = strstr(p, "{{");
		const char *close, *n, *ne;
		char sigil = '\0';
		size_t o;

		if (tag == NULL)
			tag = end;
		if (tag > p && !push(t, TEXT, p, (size_t)(tag - p)))
			goto oom;
		if (tag == end)
			break;
		close = strstr(tag + 2, "}}");
		if (close == NULL)
			return malformed(t, tag, err, "unclosed tag");
		p = close + 2;
		n = tag + 2;
		if (*n == '!') { /* a comment */
			p = standalone(t, tag, p);
			continue;
		}
		if (*n == '#' || *n == '^' || *n == '/') {
			sigil = *n++;
			p = standalone(t, tag, p);
		}
		while (n < close && (*n == ' ' || *n == '\t'))
			n++;
		ne = close;
		while (ne > n && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		if (sigil == '\0' && ne - n == 1 && *n == '.') {
			if (nctx == 0)
				return malformed(t, tag, err,
						 "{{.}} outside a section");
			if (!push(t, DOT, n, 1))
				goto oom;
			continue;
		}
		if (!valid_name(n, (size_t)(ne - n))) {
			int shown =
			    close + 2 - tag > 40 ? 40 : (int)(close + 2 - tag);

			return malformed(t, tag, err,
					 "bad tag \"%.*s\": a name is "
					 "[a-z0-9_-]+",
					 shown, tag);
		}
		switch (sigil) {
		case '\0':
			if (!push(t, VAR, n, (size_t)(ne - n)))
				goto oom;
			break;
		case '#':
		case '^':
			if (depth == MCPAUTH_HTML_MAX_DEPTH)
				return malformed(t, tag, err,
						 "sections nested deeper than "
						 "%d",
						 MCPAUTH_HTML_MAX_DEPTH);
			open[depth++] = t->count;
			if (!push(t, sigil == '#' ? SECTION : INVERTED, n,
				  (size_t)(ne - n)))
				goto oom;
			if (sigil == '#')
				nctx++;
			break;
		case '/':
			if (depth == 0)
				return malformed(t, tag, err,
						 "{{/%.*s}} closes no section",
						 (int)(ne - n), n);
			o = open[--depth];
			if (t->nodes[o].len != (size_t)(ne - n) ||
			    memcmp(t->nodes[o].s, n, (size_t)(ne - n)) != 0)
				return malformed(
				    t, tag, err, "{{/%.*s}} closes {{%c%.*s}}",
				    (int)(ne - n), n,
				    t->nodes[o].kind == SECTION ? '#' : '^',
				    (int)t->nodes[o].len, t->nodes[o].s);
			if (t->nodes[o].kind == SECTION)
				nctx--;
			t->nodes[o].end = t->count;
			break;
		}
	}
	if (depth > 0) {
		const struct node *o = &t->nodes[open[depth - 1]];

		return malformed(t, o->s, err, "{{%c%.*s}} is never closed",
				 o->kind == SECTION ? '#' : '^', (int)o->len,
				 o->s);
	}
	return true;
oom:
	MCPAUTH_ERR_INTERNAL(err, "out of memory");
	return false;
}

static void emit(struct render *r, const char *s, size_t n)
{
	if (r->over)
		return;
	if (n > r->limit - r->len) {
		r->over = true;
		return;
	}
	if (r->out != NULL)
		memcpy(r->out + r->len, s, n);
	r->len += n;
}

static const char *entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	default:
		return NULL;
	}
}

static void emit_escaped(struct render *r, const char *s)
{
	const char *run;

	if (s == NULL)
		return;
	for (run = s; *s != '\0'; s++) {
		const char *e = entity(*s);

		if (e == NULL)
			continue;
		emit(r, run, (size_t)(s - run));
		emit(r, e, strlen(e));
		run = s + 1;
	}
	emit(r, run, (size_t)(s - run));
}

static const struct mcpauth_html_var *lookup(const struct render *r,
					     const struct node *n)
{
	for (size_t i = 0; i < r->nvars; i++) {
		const char *name = r->vars[i].name;

		if (name != NULL && strlen(name) == n->len &&
		    memcmp(name, n->s, n->len) == 0)
			return &r->vars[i];
	}
	return NULL;
}

static bool is_list(const struct mcpauth_html_var *v)
{
	return v != NULL && v->values != NULL;
}

static bool is_empty(const struct mcpauth_html_var *v)
{
	if (v == NULL)
		return true;
	if (is_list(v))
		return v->nvalues == 0;
	return v->value == NULL || v->value[0] == '\0';
}

/* Renders nodes [from, to) with dot as the value of {{.}}. */
static void walk(struct render *r, size_t from, size_t to, const char *dot)
{
	size_t i = from;

	while (i < to && !r->over) {
		const struct node *n = &r->t->nodes[i];
		const struct mcpauth_html_var *v = NULL;

		if (++r->steps > MAX_STEPS) {
			r->over = true;
			return;
		}
		switch (n->kind) {
		case TEXT:
			emit(r, n->s, n->len);
			break;
		case DOT:
			emit_escaped(r, dot);
			break;
		case VAR:
			v = lookup(r, n);
			if (is_list(v)) {
				for (size_t k = 0; k < v->nvalues; k++) {
					if (k > 0)
						emit(r, ", ", 2);
					emit_escaped(r, v->values[k]);
				}
			} else if (v != NULL) {
				emit_escaped(r, v->value);
			}
			break;
		case SECTION:
			v = lookup(r, n);
			if (is_list(v)) {
				for (size_t k = 0; k < v->nvalues; k++)
					walk(r, i + 1, n->end,
					     v->values[k] != NULL ? v->values[k]
								  : "");
			} else if (!is_empty(v)) {
				walk(r, i + 1, n->end, v->value);
			}
			i = n->end;
			continue;
		case INVERTED:
			if (is_empty(lookup(r, n)))
				walk(r, i + 1, n->end, dot);
			i = n->end;
			continue;
		}
		i++;
	}
}

bool mcpauth_html_render(const char *www_dir, const char *name,
			 const struct mcpauth_html_var *vars, size_t nvars,
			 char **out, struct mcpauth_err *err)
{
	char path[PATH_MAX];
	struct tmpl t = { 0 };
	struct render r = { 0 };
	char *buf = NULL;
	bool ok = false;
	int n;

	if (www_dir == NULL || name == NULL ||
	    !valid_name(name, strlen(name))) {
		MCPAUTH_ERR_INTERNAL(err,
				     "template name \"%.40s\" is not "
				     "[a-z0-9_-]+",
				     name != NULL ? name : "(null)");
		goto out;
	}
	n = snprintf(path, sizeof(path), "%s/%s.html", www_dir, name);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		MCPAUTH_ERR_INTERNAL(err, "template path too long: %.80s",
				     www_dir);
		goto out;
	}
	t.path = path;
	if (!load(&t, err) || !parse(&t, err))
		goto out;
	r.t = &t;
	r.vars = vars;
	r.nvars = nvars;
	r.limit = MCPAUTH_HTML_MAX_OUTPUT;
	walk(&r, 0, t.count, NULL);
	if (r.over) {
		MCPAUTH_ERR_INTERNAL(err,
				     "template %s: the page exceeds %d bytes "
				     "or repeats too much",
				     path, MCPAUTH_HTML_MAX_OUTPUT);
		goto out;
	}
	buf = malloc(r.len + 1);
	if (buf == NULL) {
		MCPAUTH_ERR_INTERNAL(err, "out of memory");
		goto out;
	}
	r.out = buf;
	r.len = 0;
	r.steps = 0;
	walk(&r, 0, t.count, NULL);
	buf[r.len] = '\0';
	*out = buf;
	buf = NULL;
	ok = true;
out:
	free(buf);
	free(t.src);
	free(t.nodes);
	return ok;
}

char *mcpauth_html_escape(const char *s)
{
	struct render r = { 0 };
	char *buf;

	r.limit = SIZE_MAX - 1;
	emit_escaped(&r, s);
	if (r.over)
		return NULL;
	buf = malloc(r.len + 1);
	if (buf == NULL)
		return NULL;
	r.out = buf;
	r.len = 0;
	emit_escaped(&r, s);
	buf[r.len] = '\0';
	return buf;
}

/*
 * Sets name to value, replacing an earlier value and dropping repeats, so
 * the header is there exactly once.
 */
static bool set_header(struct mcpauth_resp *resp, const char *name,
		       const char *value)
{
	bool found = false;
	size_t i = 0;

	while (i < resp->nheaders) {
		struct mcpauth_resp_header *h = &resp->headers[i];

		if (strcasecmp(h->name, name) != 0) {
			i++;
		} else if (!found) {
			/* The name too, for its usual spelling. */
			char *n = strdup(name), *v = strdup(value);

			if (n == NULL || v == NULL) {
				free(n);
				free(v);
				return false;
			}
			free(h->name);
			free(h->value);
			h->name = n;
			h->value = v;
			found = true;
			i++;
		} else {
			free(h->name);
			free(h->value);
			memmove(h, h + 1,
				(resp->nheaders - i - 1) * sizeof(*h));
			resp->nheaders--;
		}
	}
	return found || mcpauth_resp_header(resp, name, value);
}

/*
 * Content-Security-Policy: no script at all, no plugins, no frames, only our
 * own stylesheet and images; frame-ancestors 'none' with X-Frame-Options
 * against clickjacking (RFC 9700 §4.16), base-uri 'none' against an
 * injected <base> redirecting relative URLs.
 *
 * No form-action, on purpose: the consent form POSTs to /authorize, which
 * answers 303 to the client's redirect URI (often http://127.0.0.1:PORT/
 * callback for native MCP clients), and Chromium checks form-action against
 * every redirect that follows a form submission, so 'self' would block the
 * final step of every authorization. form-action does not fall back to
 * default-src, so forms are unrestricted; the pages hold only our own
 * forms, and every value in them is escaped.
 */
static const char csp[] = "default-src 'none'; style-src 'self'; "
			  "img-src 'self'; frame-ancestors 'none'; "
			  "base-uri 'none'";

void mcpauth_html_page(struct mcpauth_resp *resp, int status, char *html)
{
	/*
	 * same-origin: no Referer leaves for other sites (our URLs may hold
	 * request ids, RFC 9700 §4.2), while our own form posts keep a real
	 * Origin header that mcpauth-authorize checks.
	 */
	if (!set_header(resp, "Cache-Control", "no-store") ||
	    !set_header(resp, "X-Frame-Options", "DENY") ||
	    !set_header(resp, "Content-Security-Policy", csp) ||
	    !set_header(resp, "X-Content-Type-Options", "nosniff") ||
	    !set_header(resp, "Referrer-Policy", "same-origin")) {
		/* The page may hold a CSRF token. */
		if (html != NULL)
			mcpauth_crypto_wipe(html, strlen(html));
		free(html);
		mcpauth_resp_body(resp, 500, NULL, NULL, 0);
		return;
	}
	mcpauth_resp_body(resp, status, "text/html; charset=utf-8", html,
			  html != NULL ? strlen(html) : 0);
}
