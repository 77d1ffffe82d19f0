/* Reading a Cisco device configuration with libxml2: by element name, as phones do. */
#include "phone_cnf.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static xmlNode *child(const xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0)
			return n;
	return NULL;
}

/* The node at a slash-separated path of element names below parent. */
static xmlNode *path(const xmlNode *parent, const char *p)
{
	char buf[256];
	base_strlcpy(buf, p, sizeof(buf));
	xmlNode *n = (xmlNode *)parent;
	for (char *save, *tok = strtok_r(buf, "/", &save); n && tok;
	     tok = strtok_r(NULL, "/", &save))
		n = child(n, tok);
	return n;
}

/* The trimmed text of an element into out ("" when absent). */
static void text(const xmlNode *parent, const char *p, char *out, size_t size)
{
	xmlNode *n = path(parent, p);
	xmlChar *s = n ? xmlNodeGetContent(n) : NULL;
	const char *t = s ? (const char *)s : "";
	while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
		t++;
	base_strlcpy(out, t, size);
	for (size_t len = strlen(out); len && strchr(" \t\r\n", out[len - 1]); len--)
		out[len - 1] = '\0';
	if (s) {
		OPENSSL_cleanse(s, (size_t)xmlStrlen(s)); /* it may be a password */
		xmlFree(s);
	}
}

static int number(const xmlNode *parent, const char *p, int def)
{
	char buf[16];
	text(parent, p, buf, sizeof(buf));
	char *end;
	long v = strtol(buf, &end, 10);
	return buf[0] && !*end && v >= 0 && v <= 65535 ? (int)v : def;
}

/* The member of callManagerGroup with the lowest priority attribute: the one tried first. */
static xmlNode *first_call_manager(const xmlNode *device)
{
	xmlNode *members = path(device, "devicePool/callManagerGroup/members"), *best = NULL;
	long best_prio = 0;
	for (xmlNode *m = members ? members->children : NULL; m; m = m->next) {
		if (m->type != XML_ELEMENT_NODE || xmlStrcmp(m->name, BAD_CAST "member") != 0)
			continue;
		xmlChar *prio = xmlGetProp(m, BAD_CAST "priority");
		long p = prio ? strtol((const char *)prio, NULL, 10) : 0;
		xmlFree(prio);
		if (!best || p < best_prio) {
			best = m;
			best_prio = p;
		}
	}
	return best ? child(best, "callManager") : NULL;
}

static void read_line(const xmlNode *device, struct phone_cnf *cnf)
{
	xmlNode *lines = path(device, "sipProfile/sipLines");
	for (xmlNode *l = lines ? lines->children : NULL; l; l = l->next) {
		if (l->type != XML_ELEMENT_NODE || xmlStrcmp(l->name, BAD_CAST "line") != 0 ||
		    number(l, "featureID", 9) != 9)
			continue;
		text(l, "name", cnf->line, sizeof(cnf->line));
		text(l, "authName", cnf->auth_name, sizeof(cnf->auth_name));
		text(l, "authPassword", cnf->auth_password, sizeof(cnf->auth_password));
		return;
	}
}

int phone_cnf_parse(const unsigned char *xml, size_t len, struct phone_cnf *cnf,
                    struct base_err *err)
{
	memset(cnf, 0, sizeof(*cnf));
	xmlDoc *doc = len <= 16 * 1024 * 1024
	                  ? xmlReadMemory((const char *)xml, (int)len, "cnf.xml", NULL,
	                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
	                  : NULL;
	xmlNode *device = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!device || xmlStrcmp(device->name, BAD_CAST "device") != 0) {
		xmlFreeDoc(doc);
		return base_err_set(err, BASE_E_BAD_REQUEST, NULL,
		                    "the configuration is not XML with a <device> root");
	}
	char flag[8];
	text(device, "fullConfig", flag, sizeof(flag));
	cnf->full_config = strcmp(flag, "false") != 0;
	text(device, "encrConfig", flag, sizeof(flag));
	cnf->encr_config = strcmp(flag, "true") == 0;
	text(device, "certHash", cnf->cert_hash, sizeof(cnf->cert_hash));
	cnf->security_mode = number(device, "deviceSecurityMode", 1);
	cnf->transport = number(device, "transportLayerProtocol", 2);
	xmlNode *cm = first_call_manager(device);
	text(cm, "processNodeName", cnf->call_manager, sizeof(cnf->call_manager));
	if (!cnf->call_manager[0])
		text(cm, "name", cnf->call_manager, sizeof(cnf->call_manager));
	cnf->sip_port = (unsigned)number(cm, "ports/sipPort", 5060);
	cnf->secure_sip_port = (unsigned)number(cm, "ports/securedSipPort", 5061);
	read_line(device, cnf);
	xmlFreeDoc(doc);
	return 0;
}

void phone_cnf_forget(struct phone_cnf *cnf)
{
	OPENSSL_cleanse(cnf->auth_password, sizeof(cnf->auth_password));
}
