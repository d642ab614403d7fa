import { readFileSync } from 'fs';
import * as path from 'path';
import { parseTopology } from '../../lib';
import { readStackJson, synthPlatform } from '../support/synth-platform';

type Resources = Record<string, Record<string, Record<string, unknown>>>;

const topology = parseTopology(JSON.parse(readFileSync(path.join(__dirname, '../../stacks/topology.example.json'), 'utf8')));
const stacks = Object.entries(synthPlatform(topology, 'aws').stackDirs).map(([name, dir]) => ({ name, resource: (JSON.parse(readStackJson(dir)) as { resource: Resources }).resource }));

describe('VPC flow logs of every stack', () => {
  it.each(stacks)('$name records accepted and rejected traffic of its VPC, kept a year', ({ resource }) => {
    const flowLogs = Object.values(resource.aws_flow_log ?? {});
    expect(flowLogs).toHaveLength(1);
    const [flowLog] = flowLogs;
    expect(flowLog.traffic_type).toBe('ALL');
    expect(flowLog.vpc_id).toMatch(/^\$\{aws_vpc\./);
    const groupReference = /^\$\{(aws_cloudwatch_log_group\.[^.]+)\.arn\}$/.exec(String(flowLog.log_destination));
    expect(groupReference).not.toBeNull();
    const group = resource.aws_cloudwatch_log_group[groupReference![1].split('.')[1]];
    expect(group.retention_in_days).toBe(365);
  });
});
