/*
 * The companion stub of an encrypted configuration (sgn-and-encrypted-config.md §2.4): what a
 * phone may read in clear when its real configuration is encrypted — enough to keep its
 * network and firmware right and to run CAPF — plus the hash of the certificate the full
 * configuration is encrypted for. Never a secret from the full file.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "pki/pki_int.h"

/* The elements copied from the full configuration, in their original order. */
static bool kept(const xmlNode *node)
{
	static const char *const names[] = {"ipAddressMode", "loadInformation", "capfAuthMode",
	                                    "capfList"};

	if (node->type != XML_ELEMENT_NODE) {
		return false;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (xmlStrcmp(node->name, (const xmlChar *)names[i]) == 0) {
			return true;
		}
	}
	return false;
}

static int stub_fill(xmlNode *stub, const xmlNode *full, const char *cert_hash)
{
	if (!xmlNewChild(stub, NULL, BAD_CAST "fullConfig", BAD_CAST "false")) {
		return -1;
	}
	for (const xmlNode *n = full->children; n; n = n->next) {
		xmlNode *copy;

		if (!kept(n)) {
			continue;
		}
		if (!(copy = xmlDocCopyNode((xmlNode *)n, stub->doc, 1)) ||
		    !xmlAddChild(stub, copy)) {
			xmlFreeNode(copy);
			return -1;
		}
	}
	if (!xmlNewChild(stub, NULL, BAD_CAST "certHash", BAD_CAST cert_hash) ||
	    !xmlNewChild(stub, NULL, BAD_CAST "encrConfig", BAD_CAST "true")) {
		return -1;
	}
	return 0;
}

int pki_enc_stub_build(const char *cnf_xml, size_t len, const X509 *phone_cert, char **out,
                       size_t *out_len, struct base_err *err)
{
	char hash[33];
	xmlDoc *full = NULL, *doc = NULL;
	xmlNode *root, *stub;
	xmlChar *text = NULL;
	int text_len = 0, rc = -1;

	*out = NULL;
	*out_len = 0;
	if (pki_cert_hash(phone_cert, hash, err) < 0) {
		return -1;
	}
	if (len > INT32_MAX ||
	    !(full = xmlReadMemory(cnf_xml, (int)len, "cnf.xml", NULL,
	                           XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
	                               XML_PARSE_NOWARNING)) ||
	    !(root = xmlDocGetRootElement(full)) || xmlStrcmp(root->name, BAD_CAST "device") != 0) {
		base_err_set(err, BASE_E_INVALID, NULL,
		             "the configuration is not XML with a <device> root");
		goto done;
	}
	if (!(doc = xmlNewDoc(BAD_CAST "1.0")) || !(stub = xmlNewNode(NULL, BAD_CAST "device"))) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		goto done;
	}
	xmlDocSetRootElement(doc, stub);
	if (stub_fill(stub, root, hash) < 0) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		goto done;
	}
	/* The reference's layout: declaration, 2-space indentation, LF, trailing LF. */
	xmlDocDumpFormatMemoryEnc(doc, &text, &text_len, "UTF-8", 1);
	if (!text || text_len <= 0 || !(*out = malloc((size_t)text_len + 1))) {
		base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
		goto done;
	}
	memcpy(*out, text, (size_t)text_len);
	(*out)[text_len] = '\0';
	*out_len = (size_t)text_len;
	rc = 0;
done:
	xmlFree(text);
	xmlFreeDoc(doc);
	xmlFreeDoc(full);
	return rc;
}
