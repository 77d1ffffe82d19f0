/* ucmd's SIP service: the stack on the configured listeners, the registrar behind it. */
#ifndef UCM_APP_SIP_H
#define UCM_APP_SIP_H

#include "app/app_config.h"
#include "call/call.h"
#include "pki/pki.h"
#include "sip/sip.h"
#include "store/store.h"

struct app_sip;

int app_sip_start(struct app_sip **out, struct event_base *base, struct store *store,
                  struct pki *pki, const struct app_config *cfg, struct base_err *err);
/* Call control, for the API's view of live calls. */
struct call_service *app_sip_calls(struct app_sip *sip);
/* The stack and the registrar, for provisioning to reach registered phones. */
struct sip_stack *app_sip_stack(struct app_sip *sip);
struct sip_registrar *app_sip_registrar(struct app_sip *sip);
void app_sip_stop(struct app_sip *sip);

#endif
