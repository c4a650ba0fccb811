/**
 * The ROS client of the provider (infra/aliyun/plugin/stack.ts) in-process against the ROS
 * stand-in: an update that changes something runs to UPDATE_COMPLETE, throttled polls are
 * ridden out while the stack goes on, and ROS's errors keep their codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAccess } from '../../../infra/aliyun/plugin/access.js';
import { isNoChange, StackClient } from '../../../infra/aliyun/plugin/stack.js';
import { type RosStandIn, startRosStandIn } from './ros-standin.js';

const credentials = { accessKeyId: 'LTAI-stack-test', accessKeySecret: 'stack-secret-0123456789' };
let ros: RosStandIn;
let client: StackClient;
const statuses: string[] = [];

const template = (description: string) =>
  JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Description: description,
    Parameters: { CodeBucket: { Type: 'String' } },
    Resources: {},
    Outputs: { Bucket: { Description: 'the bucket', Value: { Ref: 'CodeBucket' } } },
  });

beforeAll(async () => {
  ros = await startRosStandIn({ ...credentials, objectExists: () => true });
  const access = resolveAccess(
    {
      ALIBABA_CLOUD_ACCESS_KEY_ID: credentials.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: credentials.accessKeySecret,
      ALIYUN_ROS_ENDPOINT: ros.url,
    },
    'cn-shanghai',
  );
  client = new StackClient(access, { pollMs: 5, onStatus: (s) => statuses.push(s) });
});
afterAll(() => ros?.close());

describe('StackClient against the ROS stand-in', () => {
  it('creates, then updates a changed template to UPDATE_COMPLETE with the outputs', async () => {
    const created = await client.deploy('stack-test', template('v1'), { CodeBucket: 'b1' });
    expect(created.status).toBe('CREATE_COMPLETE');
    expect(created.outputs).toEqual({ Bucket: 'b1' });
    const updated = await client.deploy('stack-test', template('v2'), { CodeBucket: 'b2' });
    expect(updated).toMatchObject({ status: 'UPDATE_COMPLETE', outputs: { Bucket: 'b2' } });
    expect(updated.unchanged).toBeUndefined();
    expect(statuses).toEqual([
      'CREATE_IN_PROGRESS',
      'CREATE_COMPLETE',
      'UPDATE_IN_PROGRESS',
      'UPDATE_COMPLETE',
    ]);
  });

  it('rides out throttled polls while the stack settles', async () => {
    ros.throttleGetStack(3);
    const outcome = await client.deploy('stack-test', template('v3'), { CodeBucket: 'b3' });
    expect(outcome.status).toBe('UPDATE_COMPLETE');
  });

  it('reports an identical update as unchanged (ROS NotSupported "completely same stack")', async () => {
    const outcome = await client.deploy('stack-test', template('v3'), { CodeBucket: 'b3' });
    expect(outcome).toMatchObject({ unchanged: true, status: 'UPDATE_COMPLETE' });
  });

  it('passes other ROS errors through with their code', async () => {
    const err = await client.getStack('no-such-stack').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'StackNotFound' });
    expect(isNoChange(err)).toBe(false);
  });
});
