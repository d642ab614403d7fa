import { MEDIA_SERVER_SET_ID } from './dispatcher-list';
import { KAMAILIO_RPC_PATH, KamailioSettings } from './kamailio-settings';
import { ALLOWED_SOURCE_CIDRS_VARIABLE, NODE_ADDRESS_VARIABLE, PUBLIC_ADDRESS_VARIABLE, RPC_ALLOWED_CIDRS_VARIABLE } from './node-environment';
import { RPC_AUTHORIZATION_DEFINE } from './rpc-token';
import { KAMAILIO_LOG_NAME, newCallLogStatement, serverErrorLogStatement } from './sip-call-log';
import { SipSite } from './sip-site';

/** Dispatcher algorithm 4: round-robin over the active destinations of the set. */
const ROUND_ROBIN = 4;
/** Names the socket dispatcher sends probes and INVITEs from, so they leave by the private, unadvertised side. */
const MEDIA_SERVER_SOCKET_NAME = 'media-servers';
/** Seconds over which pike measures each source's request rate. */
const RATE_SAMPLING_SECONDS = 2;

const MODULES = ['tm', 'sl', 'rr', 'pv', 'maxfwd', 'textops', 'siputils', 'sanity', 'ipops', 'pike', 'xhttp', 'jsonrpcs', 'dispatcher', 'xlog', 'tmx'];
/** What the voice connector negotiates; older protocol versions are refused. */
const TLS_METHOD = 'TLSv1.2+';

/**
 * kamailio.cfg of every node of a site's SIP cluster: new INVITEs from the PSTN side are spread
 * round-robin over the media servers in the dispatcher list (only from the allowed sources, each under a
 * request-rate limit); a 5xx or no reply moves the call to the next
 * one; OPTIONS probes take a silent or refusing media server out and bring it back; record-routing keeps
 * in-dialog requests on the cluster; JSON-RPC over HTTP, with the site's bearer token, lets operators change a
 * destination's state. Every call attempt and every 5xx final reply is logged as one line (sip-call-log.ts).
 */
export function renderKamailioConfig(site: SipSite, settings: KamailioSettings): string {
  const { sipPort, tlsPort, mediaServerFacingPort, rpcPort } = settings;
  const attempts = Math.min(settings.maxAttempts, site.mediaServers.length);
  const tls = site.tls === true;
  // The PSTN side: where the allow-list and the rate limit apply.
  const pstnSide = tls ? `$Rp == ${sipPort} || $Rp == ${tlsPort}` : `$Rp == ${sipPort}`;
  return `#!KAMAILIO
# SIP cluster node of site ${site.id}, rendered by voiceplane: regenerate with 'voiceplane sip config', do not edit.
# Per-node values come from the environment (/etc/default/kamailio.d/voiceplane on the node).
#!defenv NODE_ADDRESS=${NODE_ADDRESS_VARIABLE}
#!defenv PUBLIC_ADDRESS=${PUBLIC_ADDRESS_VARIABLE}
#!defenvs RPC_ALLOWED_CIDRS=${RPC_ALLOWED_CIDRS_VARIABLE}
#!defenvs ALLOWED_SOURCE_CIDRS=${ALLOWED_SOURCE_CIDRS_VARIABLE}
# Defines ${RPC_AUTHORIZATION_DEFINE}, the SHA-256 of the Authorization header of RPC requests; written at boot from the site's secret.
include_file "${settings.rpcTokenPath}"

debug=2
log_stderror=no
# The syslog identity the node's syslog files Kamailio's lines under (shipped to CloudWatch Logs).
log_name="${KAMAILIO_LOG_NAME}"
fork=yes
children=${settings.children}
tcp_children=${settings.children}
auto_aliases=no
sip_warning=no
# HTTP RPC requests may come without Content-Length.
tcp_accept_no_cl=yes
server_header="Server: voiceplane-sip"
user_agent_header="User-Agent: voiceplane-sip"
run_dir="${settings.runDirectory}"

# The PSTN side reaches the node by its public address; the media servers only by its private one.
# Two sockets make record_route() add one Record-Route per side.
listen=udp:NODE_ADDRESS:${sipPort} advertise PUBLIC_ADDRESS:${sipPort}
listen=tcp:NODE_ADDRESS:${sipPort} advertise PUBLIC_ADDRESS:${sipPort}
${tls ? `# SIP over TLS from an encrypted voice connector.
enable_tls=yes
listen=tls:NODE_ADDRESS:${tlsPort} advertise PUBLIC_ADDRESS:${tlsPort}
` : ''}listen=udp:NODE_ADDRESS:${mediaServerFacingPort} name "${MEDIA_SERVER_SOCKET_NAME}"
listen=tcp:NODE_ADDRESS:${rpcPort}

${[...MODULES, ...(tls ? ['tls'] : [])].map((name) => `loadmodule "${name}.so"`).join('\n')}
${tls ? tlsModuleParameters(settings) : ''}
modparam("jsonrpcs", "transport", 1)
modparam("jsonrpcs", "pretty_format", 0)
modparam("pike", "sampling_time_unit", ${RATE_SAMPLING_SECONDS})
modparam("pike", "reqs_density_per_unit", ${settings.requestsPerSourcePerSecond * RATE_SAMPLING_SECONDS})
modparam("tm", "fr_timer", ${settings.inviteTimeoutMs})
modparam("tm", "fr_inv_timer", ${settings.ringTimeoutMs})
modparam("rr", "enable_full_lr", 1)
modparam("rr", "append_fromtag", 0)
modparam("dispatcher", "list_file", "${settings.dispatcherListPath}")
# 2: keep the other destinations of a selection for failover (ds_next_dst).
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_default_sockname", "${MEDIA_SERVER_SOCKET_NAME}")
# 1: probe every destination, active ones included, except those disabled by an operator (drained).
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_ping_interval", ${settings.pingIntervalSeconds})
modparam("dispatcher", "ds_probing_threshold", ${settings.probingThreshold})
modparam("dispatcher", "ds_inactive_threshold", ${settings.inactiveThreshold})

request_route {
	if ($Rp == ${rpcPort}) {
		exit;
	}
	# The security group admits the same sources; this holds if it is ever opened wider. A flooding source
	# is dropped without a reply; others get a 403 (no larger than their request, so no amplification).
	if (${pstnSide}) {
		if (!pike_check_req()) {
			exit;
		}
		if (!is_in_subnet("$si", ALLOWED_SOURCE_CIDRS)) {
			sl_send_reply("403", "Forbidden");
			exit;
		}
	}
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (!sanity_check()) {
		exit;
	}
	if (has_totag()) {
		route(IN_DIALOG);
	}
	# Media servers only continue dialogs here; a new request from them would be dispatched back to them.
	if ($Rp == ${mediaServerFacingPort}) {
		sl_send_reply("403", "No New Requests From Media Servers");
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans()) {
			route(RELAY);
		}
		exit;
	}
	t_check_trans();
	# Keepalives of the voice connector: healthy only while a media server can take a call.
	if (is_method("OPTIONS") && uri == myself && $rU == $null) {
		if (ds_is_active("${MEDIA_SERVER_SET_ID}")) {
			sl_send_reply("200", "OK");
		} else {
			sl_send_reply("503", "No Media Server Available");
		}
		exit;
	}
	if (!is_method("INVITE")) {
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}
	remove_hf("Route");
	record_route();
	route(DISPATCH);
}

route[IN_DIALOG] {
	if (loose_route()) {
		route(RELAY);
	}
	if (is_method("ACK")) {
		if (t_check_trans()) {
			route(RELAY);
		}
		exit;
	}
	sl_send_reply("404", "Not Here");
	exit;
}

route[DISPATCH] {
	${newCallLogStatement(site.id)}
	if (!ds_select_dst("${MEDIA_SERVER_SET_ID}", "${ROUND_ROBIN}", "${attempts}")) {
		${serverErrorLogStatement(site.id, '503')}
		send_reply("503", "No Media Server Available");
		exit;
	}
	t_on_failure("NEXT_MEDIA_SERVER");
	route(RELAY);
}

route[RELAY] {
	if (!t_relay()) {
		sl_reply_error();
	}
	exit;
}

# Failover on a 5xx or on silence; a call that got a provisional reply (it rang) is not retried elsewhere.
# Without a next media server, the best reply goes to the caller: a 5xx one is logged.
failure_route[NEXT_MEDIA_SERVER] {
	if (t_is_canceled()) {
		exit;
	}
	if (t_check_status("5[0-9][0-9]") || (t_branch_timeout() && !t_branch_replied())) {
		if (ds_next_dst()) {
			t_on_failure("NEXT_MEDIA_SERVER");
			route(RELAY);
		}
	}
	if ($T_reply_code >= 500 && $T_reply_code <= 599) {
		${serverErrorLogStatement(site.id, '$T_reply_code')}
	}
}

# JSON-RPC only on the RPC socket (never on the SIP ports the load balancer forwards), only from allowed networks
# and only with the site's bearer token.
event_route[xhttp:request] {
	if ($Rp != ${rpcPort} || !is_in_subnet("$si", RPC_ALLOWED_CIDRS)) {
		xhttp_reply("403", "Forbidden", "text/plain", "forbidden\\n");
		exit;
	}
	# Digests compared: a wrong header is refused in the same time whatever it shares with the token.
	if (!is_present_hf("Authorization") || $(hdr(Authorization){s.sha256}) != ${RPC_AUTHORIZATION_DEFINE}) {
		xhttp_reply("401", "Unauthorized", "text/plain", "unauthorized\\n");
		exit;
	}
	if ($hu == "${KAMAILIO_RPC_PATH}") {
		jsonrpc_dispatch();
		exit;
	}
	xhttp_reply("404", "Not Found", "text/plain", "not found\\n");
}
`;
}

/** The node's key and certificate chain from one PEM file; the voice connector presents no client certificate. */
function tlsModuleParameters(settings: KamailioSettings): string {
  return `modparam("tls", "tls_method", "${TLS_METHOD}")
modparam("tls", "certificate", "${settings.tlsCertificatePath}")
modparam("tls", "private_key", "${settings.tlsCertificatePath}")
modparam("tls", "verify_certificate", 0)
modparam("tls", "require_certificate", 0)
`;
}
