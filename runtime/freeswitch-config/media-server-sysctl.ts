/**
 * Kernel settings of a media server. The dialplan's `socket` application has no connect timeout: its socket is
 * blocking, so an endpoint that drops SYNs (a host gone, a black-holing firewall) stalls the call for the kernel's SYN
 * retries, about two minutes with Linux's default of 6, before the failover list moves on. Two retries give up after
 * about 7 s (SYN, then retries 1 s and 3 s later, then 4 s more), inside a SIP caller's 32 s INVITE timeout.
 */
export const SOCKET_CONNECT_SYN_RETRIES = 2;

export const MEDIA_SERVER_SYSCTL_FILE = '/etc/sysctl.d/60-voiceplane-media-server.conf';

export function renderMediaServerSysctl(): string {
  return `# voiceplane: bounds the dialplan socket application's connect to an unreachable call-control endpoint (~7 s)\nnet.ipv4.tcp_syn_retries = ${SOCKET_CONNECT_SYN_RETRIES}\n`;
}
