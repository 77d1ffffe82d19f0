/*
 * Device configuration files for Cisco SIP phones and Jabber clients (cisco-device-config.md):
 * SEP<MAC>.cnf.xml, <CSF/TCT/BOT/TAB name>.cnf.xml, the minimal stub served instead when the
 * configuration is encrypted, XMLDefault.cnf.xml and the default service profile.
 *
 * Elements follow the document order of the reference skeleton (§1.9). Values come from the
 * device, its phone security profile and SIP profile, and the cluster security mode; server
 * addresses are the one the phone reached, with the ports of our listeners. versionStamp is
 * a digest of the rest of the document, so it changes exactly when the configuration does.
 */
#include "prov/prov_int.h"
#include "store/store.h"

#include "pki/pki.h"
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything a device's configuration is made of. */
struct cnf {
	json_t *device, *security, *sip_profile;
	const char *name, *type;
	bool mixed;    /* cluster security mode */
	bool secure;   /* authenticated or encrypted, in a mixed cluster */
	int mode;      /* deviceSecurityMode: 1 non-secure, 2 authenticated, 3 encrypted */
	int transport; /* transportLayerProtocol: 1 TCP, 2 UDP, 3 TLS, 4 TCP and UDP */
	char digest_user[129];
	char digest_password[256]; /* a secret: cleansed in cnf_free */
};

X509 *prov_cnf_device_cert(struct store *store, const char *device)
{
	struct store_cert_owner owner = {.type = STORE_CERT_DEVICE};
	struct store_cert c = {0};
	base_strlcpy(owner.name, device, sizeof(owner.name));
	if (store_cert_current(store, &owner, &c, NULL) != 0)
		return NULL;
	BIO *bio = c.pem ? BIO_new_mem_buf(c.pem, -1) : NULL;
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	store_cert_clear(&c);
	return cert;
}

/* certHash: MD5 of the DER of the device's certificate, empty until it has one. */
static void cert_hash(struct store *store, const char *device, char out[33])
{
	X509 *cert = prov_cnf_device_cert(store, device);
	if (!cert || pki_cert_hash(cert, out, NULL) != 0)
		out[0] = '\0';
	X509_free(cert);
}

static const char *str(const json_t *rec, const char *key)
{
	const char *v = json_string_value(json_object_get(rec, key));
	return v ? v : "";
}

static xmlNodePtr add(xmlNodePtr parent, const char *name, const char *text)
{
	return xmlNewTextChild(parent, NULL, BAD_CAST name, text ? BAD_CAST text : NULL);
}

static xmlNodePtr addf(xmlNodePtr parent, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static xmlNodePtr addf(xmlNodePtr parent, const char *name, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return add(parent, name, text);
}

static bool cnf_type(const char *type)
{
	static const char *const types[] = {"cisco_sip_phone", "csf", "tct", "bot", "tab", NULL};
	for (const char *const *t = types; *t; t++)
		if (strcmp(*t, type) == 0)
			return true;
	return false;
}

static bool cluster_mixed(struct store *store)
{
	json_t *p = NULL;
	bool mixed = store_get(store, store_kind_find("enterprise-parameters"),
	                       "cluster_security_mode", &p, NULL) == 0 &&
	             strcmp(str(p, "value"), "mixed") == 0;
	json_decref(p);
	return mixed;
}

static void cnf_free(struct cnf *c)
{
	json_decref(c->device);
	json_decref(c->security);
	json_decref(c->sip_profile);
	OPENSSL_cleanse(c->digest_password, sizeof(c->digest_password));
}

static int transport_code(const char *transport)
{
	if (strcmp(transport, "tls") == 0)
		return 3;
	if (strcmp(transport, "udp") == 0)
		return 2;
	return strcmp(transport, "tcp") == 0 ? 1 : 4;
}

/* Loads the device and what it points at; BASE_E_NOT_FOUND unless it is a device whose
 * configuration is a cnf.xml, named exactly as asked. */
static int cnf_load(struct store *store, const char *device, bool with_secrets, struct cnf *c,
                    struct base_err *err)
{
	memset(c, 0, sizeof(*c));
	if (store_get(store, store_kind_find("devices"), device, &c->device, err) != 0)
		return -1;
	c->name = str(c->device, "name");
	c->type = str(c->device, "type");
	if (strcmp(c->name, device) != 0 || !cnf_type(c->type)) {
		cnf_free(c);
		return base_err_set(err, BASE_E_NOT_FOUND, NULL, "no configuration file for %s",
		                    device);
	}
	if (store_get(store, store_kind_find("phone-security-profiles"),
	              str(c->device, "phone_security_profile"), &c->security, err) != 0 ||
	    store_get(store, store_kind_find("sip-profiles"), str(c->device, "sip_profile"),
	              &c->sip_profile, err) != 0) {
		cnf_free(c);
		return -1;
	}
	c->mixed = cluster_mixed(store);
	const char *mode = str(c->security, "device_security_mode");
	/* A non-secure cluster makes every device connect non-secure (security-1 §4). */
	c->mode = !c->mixed                            ? 1
	          : strcmp(mode, "encrypted") == 0     ? 3
	          : strcmp(mode, "authenticated") == 0 ? 2
	                                               : 1;
	c->secure = c->mode > 1;
	c->transport = transport_code(str(c->security, "transport"));
	if (!c->secure && c->transport == 3)
		c->transport = 1;
	const char *digest_user = str(c->device, "digest_user");
	if (with_secrets && *digest_user &&
	    !json_is_true(json_object_get(c->security, "exclude_digest_credentials")) &&
	    store_digest_password(store, digest_user, c->digest_password,
	                          sizeof(c->digest_password), NULL) == 0)
		base_strlcpy(c->digest_user, digest_user, sizeof(c->digest_user));
	return 0;
}

/* ---- pieces of the document ---- */

static void add_device_pool(xmlNodePtr dev, const struct prov_servers *srv)
{
	xmlNodePtr pool = add(dev, "devicePool", NULL);
	xmlNodePtr dts = add(pool, "dateTimeSetting", NULL);
	add(dts, "dateTemplate", "M/D/Y");
	add(dts, "timeZone", "Greenwich Standard Time");
	xmlNodePtr member =
	    add(add(add(pool, "callManagerGroup", NULL), "members", NULL), "member", NULL);
	xmlNewProp(member, BAD_CAST "priority", BAD_CAST "0");
	xmlNodePtr cm = add(member, "callManager", NULL);
	xmlNodePtr ports = add(cm, "ports", NULL);
	add(ports, "ethernetPhonePort", "2000");
	addf(ports, "sipPort", "%u", srv->sip_port);
	addf(ports, "securedSipPort", "%u", srv->sip_tls_port);
	add(cm, "processNodeName", srv->host);
	/* Jabber4Linux reads name, hardware phones processNodeName: both (§1.2). */
	add(cm, "name", srv->host);
}

static void add_tvs(xmlNodePtr dev, const struct prov_servers *srv)
{
	xmlNodePtr member = add(add(add(dev, "TVS", NULL), "members", NULL), "member", NULL);
	xmlNewProp(member, BAD_CAST "priority", BAD_CAST "0");
	addf(member, "port", "%u", srv->tvs_port);
	add(member, "address", srv->host);
}

static void add_sip_stack(xmlNodePtr profile, const json_t *sp)
{
	xmlNodePtr proxies = add(profile, "sipProxies", NULL);
	add(proxies, "registerWithProxy", "true");
	xmlNodePtr features = add(profile, "sipCallFeatures", NULL);
	add(features, "cnfJoinEnabled", "true");
	add(features, "callForwardURI", "x-cisco-serviceuri-cfwdall");
	add(features, "callPickupURI", "x-cisco-serviceuri-pickup");
	add(features, "callPickupListURI", "x-cisco-serviceuri-opickup");
	add(features, "callPickupGroupURI", "x-cisco-serviceuri-gpickup");
	add(features, "meetMeServiceURI", "x-cisco-serviceuri-meetme");
	add(features, "abbreviatedDialURI", "x-cisco-serviceuri-abbrdial");
	add(features, "rfc2543Hold", "false");
	add(features, "callHoldRingback", "2");
	add(features, "localCfwdEnable", "true");
	add(features, "semiAttendedTransfer", "true");
	add(features, "anonymousCallBlock", "2");
	add(features, "callerIdBlocking", "2");
	add(features, "dndControl", "0");
	add(features, "remoteCcEnable", "true");
	add(features, "retainForwardInformation", "false");
	xmlNodePtr stack = add(profile, "sipStack", NULL);
	add(stack, "sipInviteRetx", "6");
	add(stack, "sipRetx", "10");
	add(stack, "timerInviteExpires", "180");
	static const char *const timers[][2] = {
	    {"timerRegisterExpires", "timer_register_expires"},
	    {"timerRegisterDelta", "timer_register_delta"},
	    {"timerKeepAliveExpires", "timer_keep_alive_expires"},
	    {"timerSubscribeExpires", "timer_subscribe_expires"},
	    {"timerSubscribeDelta", "timer_subscribe_delta"},
	};
	for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
		addf(stack, timers[i][0], "%lld",
		     (long long)json_integer_value(json_object_get(sp, timers[i][1])));
	add(stack, "timerT1", "500");
	add(stack, "timerT2", "4000");
	add(stack, "maxRedirects", "70");
	add(stack, "remotePartyID", "true");
	add(stack, "userInfo", "None");
}

static void line_display_name(struct store *store, const char *dn, const json_t *device, char *out,
                              size_t size)
{
	json_t *rec = NULL;
	*out = '\0';
	if (store_get(store, store_kind_find("directory-numbers"), dn, &rec, NULL) == 0)
		base_strlcpy(out, str(rec, "alerting_name"), size);
	json_decref(rec);
	const char *owner = str(device, "owner_user_id");
	if (*out || !*owner ||
	    store_get(store, store_kind_find("end-users"), owner, &rec, NULL) != 0)
		return;
	snprintf(out, size, "%s%s%s", str(rec, "first_name"), *str(rec, "first_name") ? " " : "",
	         str(rec, "last_name"));
	json_decref(rec);
}

static void add_lines(struct store *store, xmlNodePtr profile, const struct cnf *c,
                      const struct prov_servers *srv)
{
	xmlNodePtr lines = add(profile, "sipLines", NULL);
	size_t i;
	json_t *line;
	json_array_foreach(json_object_get(c->device, "lines"), i, line)
	{
		const char *dn = str(line, "directory_number");
		xmlNodePtr l = add(lines, "line", NULL);
		char index[24], display[160];
		snprintf(index, sizeof(index), "%zu", i + 1);
		xmlNewProp(l, BAD_CAST "button", BAD_CAST index);
		xmlNewProp(l, BAD_CAST "lineIndex", BAD_CAST index);
		add(l, "featureID", "9");
		add(l, "featureLabel", dn);
		add(l, "proxy", "USECALLMANAGER");
		addf(l, "port", "%u", c->secure ? srv->sip_tls_port : srv->sip_port);
		add(l, "name", dn);
		line_display_name(store, dn, c->device, display, sizeof(display));
		add(l, "displayName", display);
		add(add(l, "autoAnswer", NULL), "autoAnswerEnabled", "2");
		add(l, "callWaiting", "3");
		if (c->digest_user[0]) {
			add(l, "authName", c->digest_user);
			add(l, "authPassword", c->digest_password);
		}
		add(l, "contact", dn);
		struct store_line_device devices[2];
		size_t n = 0;
		store_line_devices(store, dn, devices, 2, &n, NULL);
		add(l, "sharedLine", n > 1 ? "true" : "false");
		add(l, "messageWaitingLampPolicy", "3");
		add(l, "messageWaitingAMWI", "1");
		add(l, "ringSettingIdle", "4");
		add(l, "ringSettingActive", "5");
		add(l, "maxNumCalls", "4");
		add(l, "busyTrigger", "2");
	}
}

static void add_sip_profile(struct store *store, xmlNodePtr dev, const struct cnf *c,
                            const struct prov_servers *srv)
{
	xmlNodePtr profile = add(dev, "sipProfile", NULL);
	add_sip_stack(profile, c->sip_profile);
	add(profile, "autoAnswerTimer", "1");
	add(profile, "dtmfAvtPayload", "101");
	add(profile, "dtmfOutofBand", "avt");
	add(profile, "startMediaPort", "16384");
	add(profile, "stopMediaPort", "32766");
	add(profile, "phoneLabel", "");
	add_lines(store, profile, c, srv);
	addf(profile, "voipControlPort", "%lld",
	     (long long)json_integer_value(json_object_get(c->security, "sip_phone_port")));
	add(profile, "dscpForAudio", "184");
	add(profile, "dscpVideo", "136");
}

/* Phone hardening (security-3 ch. 9). In vendorConfig, 0 means enabled for the port and
 * access switches, while settingsAccess counts 1 as enabled. */
static void add_hardening(xmlNodePtr dev, const json_t *device)
{
	xmlNodePtr vc = add(dev, "vendorConfig", NULL);
	bool on = strcmp(str(device, "settings_access"), "enabled") == 0;
	add(vc, "settingsAccess", on ? "1" : "0");
	static const char *const inverted[][2] = {
	    {"pcPort", "pc_port"},
	    {"garp", "gratuitous_arp"},
	    {"voiceVlanAccess", "pc_voice_vlan_access"},
	    {"webAccess", "web_access"},
	};
	for (size_t i = 0; i < sizeof(inverted) / sizeof(inverted[0]); i++)
		add(vc, inverted[i][0],
		    strcmp(str(device, inverted[i][1]), "enabled") == 0 ? "0" : "1");
	add(vc, "disableSpeaker",
	    json_is_true(json_object_get(device, "disable_speakerphone")) ? "true" : "false");
	add(vc, "disableSpeakerAndHeadset",
	    json_is_true(json_object_get(device, "disable_speakerphone_and_headset")) ? "true"
	                                                                              : "false");
}

static int capf_auth_mode(const json_t *device)
{
	static const char *const modes[] = {"by_authentication_string", "by_null_string",
	                                    "by_existing_certificate_lsc",
	                                    "by_existing_certificate_mic"};
	const char *mode = str(device, "capf_authentication_mode");
	for (int i = 0; i < 4; i++)
		if (strcmp(modes[i], mode) == 0)
			return i + 1;
	return 1;
}

static void add_capf(xmlNodePtr dev, const json_t *device, const struct prov_servers *srv)
{
	addf(dev, "capfAuthMode", "%d", capf_auth_mode(device));
	xmlNodePtr capf = add(add(dev, "capfList", NULL), "capf", NULL);
	addf(capf, "phonePort", "%u", srv->capf_port);
	add(capf, "processNodeName", srv->host);
}

static void add_user(xmlNodePtr dev, const json_t *device)
{
	const char *owner = str(device, "owner_user_id");
	xmlNodePtr user = add(dev, "userId", owner);
	/* The client reads the service profile this names (softphones §3.5); without an owner
	 * it falls back to the default service profile on its own. */
	if (*owner)
		xmlNewProp(user, BAD_CAST "serviceProfileFile", BAD_CAST PROV_SERVICE_PROFILE_FILE);
	add(dev, "ownerId", owner);
}

/* ---- serialising ---- */

static int serialize(xmlDocPtr doc, unsigned char **out, size_t *len, struct base_err *err)
{
	xmlChar *mem = NULL;
	int size = 0;
	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	if (!mem)
		return base_err_set(err, BASE_E_INTERNAL, NULL, "cannot write XML");
	*out = malloc((size_t)size + 1);
	if (*out) {
		memcpy(*out, mem, (size_t)size);
		(*out)[size] = '\0';
		*len = (size_t)size;
	}
	/* The text may hold digest credentials. */
	OPENSSL_cleanse(mem, (size_t)size);
	xmlFree(mem);
	return *out ? 0 : base_err_set(err, BASE_E_INTERNAL, NULL, "out of memory");
}

/* Serialises with versionStamp = the first 32 hex digits of SHA-256 of the document as it
 * reads with an empty stamp. */
static int finish(xmlDocPtr doc, xmlNodePtr stamp, unsigned char **out, size_t *len,
                  struct base_err *err)
{
	unsigned char *draft;
	size_t draft_len;
	if (serialize(doc, &draft, &draft_len, err) != 0) {
		xmlFreeDoc(doc);
		return -1;
	}
	unsigned char md[32];
	char hex[65];
	EVP_Digest(draft, draft_len, md, NULL, EVP_sha256(), NULL);
	OPENSSL_cleanse(draft, draft_len);
	free(draft);
	base_hex(md, 16, hex);
	xmlNodeSetContent(stamp, BAD_CAST hex);
	int rc = serialize(doc, out, len, err);
	xmlFreeDoc(doc);
	return rc;
}

static xmlDocPtr new_doc(xmlNodePtr *root, const char *name)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	*root = xmlNewNode(NULL, BAD_CAST name);
	xmlDocSetRootElement(doc, *root);
	return doc;
}

int prov_cnf_device(struct store *store, const struct prov_servers *srv, const char *device,
                    bool with_secrets, unsigned char **out, size_t *len, struct base_err *err)
{
	struct cnf c;
	if (cnf_load(store, device, with_secrets, &c, err) != 0)
		return -1;
	xmlNodePtr dev;
	xmlDocPtr doc = new_doc(&dev, "device");
	add(dev, "fullConfig", "true");
	add(dev, "deviceProtocol", "SIP");
	add(dev, "ipAddressMode", strchr(srv->host, ':') ? "1" : "0");
	add(dev, "allowAutoConfig", "true");
	add_device_pool(dev, srv);
	add_tvs(dev, srv);
	add_sip_profile(store, dev, &c, srv);
	add(dev, "MissedCallLoggingOption", "10");
	add(dev, "loadInformation", "");
	if (strcmp(c.type, "cisco_sip_phone") == 0)
		add_hardening(dev, c.device);
	xmlNodePtr stamp = add(dev, "versionStamp", "");
	addf(dev, "deviceSecurityMode", "%d", c.mode);
	addf(dev, "transportLayerProtocol", "%d", c.transport);
	add(dev, "TLSResumptionTimer", "3600");
	add_capf(dev, c.device, srv);
	char hash[33];
	cert_hash(store, c.name, hash);
	add(dev, "certHash", hash);
	add(dev, "encrConfig", "false");
	add_user(dev, c.device);
	cnf_free(&c);
	return finish(doc, stamp, out, len, err);
}

bool prov_cnf_encrypted(struct store *store, const char *device)
{
	struct cnf c;
	if (cnf_load(store, device, false, &c, NULL) != 0)
		return false;
	bool enc = json_is_true(json_object_get(c.security, "tftp_encrypted_config"));
	cnf_free(&c);
	return enc;
}

int prov_cnf_stub(struct store *store, const struct prov_servers *srv, const char *device,
                  unsigned char **out, size_t *len, struct base_err *err)
{
	struct cnf c;
	if (cnf_load(store, device, false, &c, err) != 0)
		return -1;
	xmlNodePtr dev;
	xmlDocPtr doc = new_doc(&dev, "device");
	add(dev, "fullConfig", "false");
	add(dev, "ipAddressMode", strchr(srv->host, ':') ? "1" : "0");
	add(dev, "loadInformation", "");
	add_capf(dev, c.device, srv);
	add(dev, "certHash", "");
	add(dev, "encrConfig", "true");
	cnf_free(&c);
	int rc = serialize(doc, out, len, err);
	xmlFreeDoc(doc);
	return rc;
}

int prov_cnf_default(struct store *store, const struct prov_servers *srv, unsigned char **out,
                     size_t *len, struct base_err *err)
{
	(void)store;
	xmlNodePtr dev;
	xmlDocPtr doc = new_doc(&dev, "Default");
	add_device_pool(dev, srv);
	add_tvs(dev, srv);
	add(dev, "loadInformation", "");
	xmlNodePtr stamp = add(dev, "versionStamp", "");
	add(dev, "deviceSecurityMode", "1");
	add(dev, "transportLayerProtocol", "1");
	return finish(doc, stamp, out, len, err);
}

int prov_cnf_service_profile(struct store *store, const struct prov_servers *srv,
                             unsigned char **out, size_t *len, struct base_err *err)
{
	(void)store;
	xmlNodePtr sp;
	xmlDocPtr doc = new_doc(&sp, "serviceProfile");
	add(sp, "name", "Default");
	xmlNodePtr tftp = add(add(sp, "tftpServers", NULL), "tftpServer", NULL);
	add(tftp, "address", srv->host);
	addf(tftp, "httpPort", "%u", srv->http_port);
	addf(tftp, "httpsPort", "%u", srv->https_port);
	xmlNodePtr stamp = add(sp, "versionStamp", "");
	return finish(doc, stamp, out, len, err);
}
