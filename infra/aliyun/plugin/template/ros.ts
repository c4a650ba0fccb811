/** ROS template vocabulary (ROS is Alibaba's CloudFormation: same shape, `ALIYUN::` types). */

export type RosValue =
  | string
  | number
  | boolean
  | null
  | RosValue[]
  | { [key: string]: RosValue | undefined };

export interface RosResource {
  Type: string;
  Properties?: Record<string, RosValue | undefined>;
  DependsOn?: string[];
  DeletionPolicy?: 'Delete' | 'Retain';
}

export interface RosTemplate {
  ROSTemplateFormatVersion: '2015-09-01';
  Description: string;
  Parameters: Record<string, Record<string, RosValue>>;
  Resources: Record<string, RosResource>;
  Outputs: Record<string, { Description: string; Value: RosValue }>;
}

/** `{ "Ref": name }` */
export const ref = (name: string): RosValue => ({ Ref: name });
/** `{ "Fn::GetAtt": [resource, attribute] }` */
export const getAtt = (resource: string, attribute: string): RosValue => ({
  'Fn::GetAtt': [resource, attribute],
});
/** `{ "Fn::Sub": text }`: `${ALIYUN::Region}`, `${ALIYUN::AccountId}` and parameters. */
export const sub = (text: string): RosValue => ({ 'Fn::Sub': text });

/** A RAM policy document (version 1). */
export function policyDocument(statements: { Action: string[]; Resource: RosValue[] }[]): RosValue {
  return {
    Version: '1',
    Statement: statements.map((s) => ({ Effect: 'Allow', Action: s.Action, Resource: s.Resource })),
  };
}
