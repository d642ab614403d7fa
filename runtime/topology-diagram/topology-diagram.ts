import { escapeMarkup as escape } from '../shared/markup';
import type { DiagramTopology } from './diagram-topology';

const COLUMN = 300;
const GAP = 40;
const LINE = 18;
const PADDING = 12;
const DATA_CENTER_Y = 60;
const ROW_GAP = 120;

interface Box {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly height: number;
  readonly lines: readonly string[];
}

function boxes(ids: readonly string[], linesOf: (index: number) => readonly string[], y: number): Box[] {
  return ids.map((id, index) => {
    const lines = linesOf(index);
    return { id, x: GAP + index * (COLUMN + GAP), y, height: PADDING * 2 + lines.length * LINE, lines };
  });
}

function drawBox(box: Box, fill: string): string {
  const text = box.lines.map((line, index) => `<text x="${box.x + PADDING}" y="${box.y + PADDING + (index + 1) * LINE - 4}" font-size="${index === 0 ? 14 : 12}"${index === 0 ? ' font-weight="bold"' : ''}>${escape(line)}</text>`);
  return [`<rect x="${box.x}" y="${box.y}" width="${COLUMN}" height="${box.height}" rx="8" fill="${fill}" stroke="#456"/>`, ...text].join('\n');
}

/**
 * The platform as an SVG picture: data centers above, sites below, each with its region and VPC; a line from a
 * data center to each site whose media servers its call-control groups serve (the VPC peering that carries the
 * event socket and outbound ESL), labelled with the media servers and groups; dashed arcs between sites for the
 * peerings their Call Data Servers talk over.
 */
export function renderTopologyDiagram(topology: DiagramTopology): string {
  const { dataCenters, sites } = topology;
  const served = (dataCenterId: string, site: DiagramTopology['sites'][number]) => site.mediaServers.filter((server) => server.callControl.dataCenter === dataCenterId);
  const dataCenterBoxes = boxes(
    dataCenters.map((dataCenter) => dataCenter.id),
    (index) => {
      const dataCenter = dataCenters[index];
      const groups = new Set(sites.flatMap((site) => served(dataCenter.id, site).flatMap((server) => server.callControl.groups.map((group) => group.id))));
      return [`data center ${dataCenter.id}`, `${dataCenter.region} · ${dataCenter.vpcCidr}`, `call control: ${[...groups].sort().join(', ') || 'none'}`, 'upgrade orchestrator · CDR archive'];
    },
    DATA_CENTER_Y,
  );
  const siteY = DATA_CENTER_Y + Math.max(...dataCenterBoxes.map((box) => box.height)) + ROW_GAP;
  const siteBoxes = boxes(
    sites.map((site) => site.id),
    (index) => {
      const site = sites[index];
      return [
        `site ${site.id}`,
        `${site.region} · ${site.vpcCidr}`,
        `SIP cluster ×${site.sipCluster.size}${site.pstn?.enabled ? ' · PSTN voice connector' : ''}`,
        'Call Data Server',
        ...site.mediaServers.map((server) => `${server.id} → ${server.callControl.dataCenter}: ${server.callControl.groups.map((group) => group.id).join(', ')}`),
      ];
    },
    siteY,
  );
  const links = dataCenterBoxes.flatMap((dataCenterBox, dataCenterIndex) =>
    siteBoxes.flatMap((siteBox, siteIndex) => {
      const servers = served(dataCenters[dataCenterIndex].id, sites[siteIndex]);
      if (servers.length === 0) return [];
      const [x1, y1, x2, y2] = [dataCenterBox.x + COLUMN / 2, dataCenterBox.y + dataCenterBox.height, siteBox.x + COLUMN / 2, siteBox.y];
      const label = `${servers.length} media server${servers.length === 1 ? '' : 's'}`;
      return [
        `<line class="serves" data-from="${escape(dataCenterBox.id)}" data-to="${escape(siteBox.id)}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#1f6fd1" stroke-width="2"/>`,
        `<text x="${(x1 + x2) / 2 + 6}" y="${(y1 + y2) / 2}" font-size="11" fill="#1f6fd1">${escape(label)}</text>`,
      ];
    }),
  );
  const bottom = siteY + Math.max(...siteBoxes.map((box) => box.height));
  const peerings = siteBoxes.flatMap((from, index) =>
    siteBoxes.slice(index + 1).map((to, offset) => {
      const depth = 30 + (offset + index) * 14;
      const [x1, x2] = [from.x + COLUMN / 2, to.x + COLUMN / 2];
      return `<path class="cds-peering" data-from="${escape(from.id)}" data-to="${escape(to.id)}" d="M ${x1} ${from.y + from.height} C ${x1} ${bottom + depth}, ${x2} ${bottom + depth}, ${x2} ${to.y + to.height}" fill="none" stroke="#2e9e5b" stroke-width="2" stroke-dasharray="6 4"/>`;
    }),
  );
  const width = GAP + Math.max(dataCenters.length, sites.length) * (COLUMN + GAP);
  const height = bottom + 40 + Math.max(0, sites.length - 1) * 14 * 2 + 40;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escape(`voiceplane platform ${topology.platform}`)}</title>`,
    `<text x="${GAP}" y="30" font-size="18" font-weight="bold">${escape(`platform ${topology.platform}`)}</text>`,
    `<text x="${width - GAP}" y="30" font-size="11" text-anchor="end"><tspan fill="#1f6fd1">── call control (VPC peering)</tspan>  <tspan fill="#2e9e5b">- - CDS peering</tspan></text>`,
    ...links,
    ...peerings,
    ...dataCenterBoxes.map((box) => drawBox(box, '#eef3fb')),
    ...siteBoxes.map((box) => drawBox(box, '#eef8f1')),
    '</svg>',
    '',
  ].join('\n');
}
