/*
 * aws_xml.c - a small element tree over expat for AWS XML answers.
 *
 * AWS answers are small, element-only documents: a tree with the text of
 * each element is all the callers need.  Namespaces are ignored (real
 * answers carry an xmlns, the fakes and old documentation do not), and a
 * DOCTYPE is refused so no entity can ever expand.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "aws_parse.h"

struct xml_ctx {
	XML_Parser	 p;
	struct jc_xml	*root;
	struct jc_xml	*cur;		/* innermost open element */
	int		 depth;
	size_t		 nodes;
	int		 err;		/* JC_ERR_* once stopped, else 0 */
};

static void
xml_stop(struct xml_ctx *c, int err)
{
	if (c->err == 0)
		c->err = err;
	XML_StopParser(c->p, XML_FALSE);
}

static void XMLCALL
xml_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_ctx *c = arg;
	struct jc_xml *x;
	const char *local;

	(void)attrs;
	if (c->err != 0)
		return;
	if (++c->depth > JC_XML_MAX_DEPTH || ++c->nodes > JC_XML_MAX_NODES) {
		xml_stop(c, JC_ERR_PROTO);
		return;
	}
	if ((local = strrchr(name, ':')) != NULL)
		local++;
	else
		local = name;
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->name = strdup(local)) == NULL) {
		free(x);
		xml_stop(c, JC_ERR_NOMEM);
		return;
	}
	x->parent = c->cur;
	if (c->cur == NULL)
		c->root = x;
	else if (c->cur->last == NULL)
		c->cur->child = c->cur->last = x;
	else {
		c->cur->last->next = x;
		c->cur->last = x;
	}
	c->cur = x;
}

static void XMLCALL
xml_end(void *arg, const XML_Char *name)
{
	struct xml_ctx *c = arg;

	(void)name;
	if (c->err != 0 || c->cur == NULL)
		return;
	c->depth--;
	c->cur = c->cur->parent;
}

static void XMLCALL
xml_text(void *arg, const XML_Char *s, int len)
{
	struct xml_ctx *c = arg;
	struct jc_xml *x = c->cur;
	size_t need, cap;
	char *t;

	if (c->err != 0 || x == NULL || len <= 0)
		return;
	need = x->textlen + (size_t)len + 1;
	if (need > JC_XML_MAX_TEXT) {
		xml_stop(c, JC_ERR_PROTO);
		return;
	}
	if (need > x->textcap) {
		cap = x->textcap ? x->textcap : 32;
		while (cap < need)
			cap *= 2;
		if ((t = realloc(x->text, cap)) == NULL) {
			xml_stop(c, JC_ERR_NOMEM);
			return;
		}
		x->text = t;
		x->textcap = cap;
	}
	memcpy(x->text + x->textlen, s, (size_t)len);
	x->textlen += (size_t)len;
	x->text[x->textlen] = '\0';
}

/* AWS never sends a DTD; refusing it rules out entity tricks. */
static void XMLCALL
xml_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
    const XML_Char *pubid, int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	xml_stop(arg, JC_ERR_PROTO);
}

void
jc_xml_free(struct jc_xml *x)
{
	struct jc_xml *next;

	/* Iterative, so a deep tree cannot exhaust the stack. */
	while (x != NULL) {
		if (x->child != NULL) {
			next = x->child;
			x->child = NULL;
			x = next;
			continue;
		}
		next = x->next != NULL ? x->next : x->parent;
		if (x->parent != NULL && x->next == NULL)
			x->parent->child = NULL;
		free(x->name);
		free(x->text);
		free(x);
		x = next;
	}
}

int
jc_xml_parse(const char *buf, size_t len, struct jc_xml **out)
{
	struct xml_ctx c;
	int r = JC_ERR_PROTO;

	memset(&c, 0, sizeof(c));
	if (len > INT_MAX)
		return JC_ERR_PROTO;
	if ((c.p = XML_ParserCreate(NULL)) == NULL)
		return JC_ERR_NOMEM;
	XML_SetUserData(c.p, &c);
	XML_SetElementHandler(c.p, xml_start, xml_end);
	XML_SetCharacterDataHandler(c.p, xml_text);
	XML_SetStartDoctypeDeclHandler(c.p, xml_doctype);
	if (XML_Parse(c.p, buf, (int)len, XML_TRUE) != XML_STATUS_OK) {
		r = c.err != 0 ? c.err : JC_ERR_PROTO;
		goto out;
	}
	if (c.err != 0) {
		r = c.err;
		goto out;
	}
	if (c.root == NULL)
		goto out;
	*out = c.root;
	c.root = NULL;
	r = 0;
 out:
	/* Make a partly built tree freeable from its root. */
	jc_xml_free(c.root);
	XML_ParserFree(c.p);
	return r;
}

const struct jc_xml *
jc_xml_child(const struct jc_xml *x, const char *name)
{
	const struct jc_xml *c;

	if (x == NULL)
		return NULL;
	for (c = x->child; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct jc_xml *
jc_xml_next(const struct jc_xml *x)
{
	const struct jc_xml *c;

	if (x == NULL)
		return NULL;
	for (c = x->next; c != NULL; c = c->next)
		if (strcmp(c->name, x->name) == 0)
			return c;
	return NULL;
}

const struct jc_xml *
jc_xml_path(const struct jc_xml *x, const char *path)
{
	char step[128];
	const char *p = path, *slash;
	size_t n;

	while (x != NULL && *p != '\0') {
		if ((slash = strchr(p, '/')) == NULL)
			slash = p + strlen(p);
		n = (size_t)(slash - p);
		if (n == 0 || n >= sizeof(step))
			return NULL;
		memcpy(step, p, n);
		step[n] = '\0';
		x = jc_xml_child(x, step);
		p = *slash == '/' ? slash + 1 : slash;
	}
	return x;
}

const char *
jc_xml_text(const struct jc_xml *x, const char *path)
{
	const struct jc_xml *e = jc_xml_path(x, path);

	return e != NULL && e->text != NULL ? e->text : "";
}

const struct jc_xml *
jc_xml_find(const struct jc_xml *x, const char *name)
{
	const struct jc_xml *c;

	/* Pre-order walk without recursion. */
	for (c = x; c != NULL; ) {
		if (c != x && strcmp(c->name, name) == 0)
			return c;
		if (c->child != NULL) {
			c = c->child;
			continue;
		}
		while (c != NULL && c != x && c->next == NULL)
			c = c->parent;
		if (c == NULL || c == x)
			break;
		c = c->next;
	}
	return NULL;
}
