/** What the service reports about itself over HTTP. */
export interface ServiceStatus {
  readonly group: string;
  readonly version: string;
  /** False from the moment a shutdown begins. */
  readonly acceptingCalls: boolean;
  readonly activeCalls: number;
}
