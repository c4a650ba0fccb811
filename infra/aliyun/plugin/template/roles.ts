/**
 * One RAM role per function, trusted by FC only, each with only what its function does:
 * - message: read/write rows of the state table, write its logstore, send a failed event to
 *   the failure queue (FC delivers async destinations with the function's role);
 * - send: write its logstore and nothing else (no Tablestore action at all, so it cannot touch
 *   the pairing allowlist);
 * - relay: invoke the message function (one ARN) and write its logstore.
 * Resource ARNs follow the RAM formats of each service (acs:<service>:<region>:<account>:…).
 */
import type { StackInput } from '../schema.js';
import type { StackNames } from './names.js';
import { policyDocument, type RosResource, type RosValue, sub } from './ros.js';

const FC_TRUST: RosValue = {
  Version: '1',
  Statement: [
    { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } },
  ],
};

/**
 * The row operations the Tablestore state adapter calls (lib/state/tablestore.ts); no table or
 * instance administration (ROS creates the table).
 */
export const STATE_ROW_ACTIONS = [
  'ots:GetRow',
  'ots:PutRow',
  'ots:UpdateRow',
  'ots:DeleteRow',
  'ots:GetRange',
];

function logWrite(names: StackNames) {
  return {
    Action: ['log:PostLogStoreLogs'],
    Resource: [
      sub(
        `acs:log:\${ALIYUN::Region}:\${ALIYUN::AccountId}:project/${names.logProjectPrefix}-\${ALIYUN::AccountId}/logstore/${names.logstore}`,
      ),
    ],
  };
}

function role(name: string, description: string, statements: Parameters<typeof policyDocument>[0]) {
  return {
    Type: 'ALIYUN::RAM::Role',
    Properties: {
      RoleName: name,
      Description: description,
      AssumeRolePolicyDocument: FC_TRUST,
      Policies: [
        { PolicyName: `${name}-policy`.slice(0, 128), PolicyDocument: policyDocument(statements) },
      ],
    },
  } satisfies RosResource;
}

/** The three roles, keyed by logical id. */
export function roleResources(input: StackInput, names: StackNames): Record<string, RosResource> {
  const table = sub(
    `acs:ots:\${ALIYUN::Region}:\${ALIYUN::AccountId}:instance/${input.state.instanceName}/table/${input.state.tableName}`,
  );
  return {
    MessageRole: role(names.role('message'), 'dingtalk-channel message function', [
      { Action: STATE_ROW_ACTIONS, Resource: [table] },
      logWrite(names),
      {
        Action: ['mns:SendMessage'],
        Resource: [
          sub(
            `acs:mns:\${ALIYUN::Region}:\${ALIYUN::AccountId}:/queues/${names.failureQueue}/messages`,
          ),
        ],
      },
    ]),
    SendRole: role(names.role('send'), 'dingtalk-channel send function', [logWrite(names)]),
    RelayRole: role(names.role('relay'), 'dingtalk-channel relay', [
      {
        Action: ['fc:InvokeFunction'],
        Resource: [
          sub(`acs:fc:\${ALIYUN::Region}:\${ALIYUN::AccountId}:functions/${names.messageFunction}`),
        ],
      },
      logWrite(names),
    ]),
  };
}
