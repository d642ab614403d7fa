/** Stack names, shared so the stacks and the CLI (which reads their outputs) name a stack by one rule. */

export function siteStackName(platform: string, siteId: string): string {
  return `${platform}-site-${siteId}`;
}

export function dataCenterStackName(platform: string, dataCenterId: string): string {
  return `${platform}-dc-${dataCenterId}`;
}
