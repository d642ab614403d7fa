/** The fleet inventory shipped with a data center's upgrade orchestrator; `voiceplane inventory` writes the same document. */
export { fleetInventoryDocument, type FleetInventoryDocumentProps, type FleetMediaServer } from '../runtime/upgrade/inventory/fleet-inventory-document';
