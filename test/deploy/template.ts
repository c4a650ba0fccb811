/** Small readers for the CloudFormation template `serverless package` writes. */

export interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Properties: Record<string, unknown>;
}

export interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
}

/** The resources of one type, by logical id. */
export function ofType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** The one resource of `type`; throws when there are none or several. */
export function single(template: Template, type: string): [string, Resource] {
  const found = ofType(template, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

/** The logical ids a value refers to through Ref, Fn::GetAtt or ${Name} in Fn::Sub. */
export function referencedIds(value: unknown): Set<string> {
  const ids = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
      return;
    }
    if (!v || typeof v !== 'object') return;
    for (const [key, inner] of Object.entries(v)) {
      if (key === 'Ref' && typeof inner === 'string') ids.add(inner);
      else if (key === 'Fn::GetAtt') ids.add(getAttTarget(inner));
      else if (key === 'Fn::Sub') subTargets(inner, ids, walk);
      else walk(inner);
    }
  };
  walk(value);
  return ids;
}

function getAttTarget(value: unknown): string {
  return Array.isArray(value) ? String(value[0]) : String(value).split('.')[0]!;
}

/** `${Name}` / `${Name.Attr}` in an Fn::Sub string (pseudo parameters like `${AWS::Region}` are not ids). */
function subTargets(value: unknown, ids: Set<string>, walk: (v: unknown) => void): void {
  const text = Array.isArray(value) ? value[0] : value;
  for (const m of String(text).matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}/g)) ids.add(m[1]!);
  if (Array.isArray(value)) walk(value[1]);
}

export interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every statement of a role's inline policies. */
export function roleStatements(role: Resource): PolicyStatement[] {
  const policies = (role.Properties.Policies ?? []) as {
    PolicyDocument: { Statement: PolicyStatement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

export const actionsOf = (s: PolicyStatement): string[] => [s.Action].flat();
export const resourcesOf = (s: PolicyStatement): unknown[] => [s.Resource].flat();
