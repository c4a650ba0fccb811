/**
 * The state store options of the configured backend, from settings the config loader already
 * validated (lib/config/rules.ts names any missing key). Shared by the runtime and the owner
 * commands, so both open the same store; type-only imports keep the CLI light.
 */
import type { AppSettings } from '../config/settings.js';
import type { StateStoreOptions } from './index.js';

/** The state store options of the configured backend (the config loader validated them). */
export function stateStoreOptions(settings: AppSettings): StateStoreOptions {
  const { state, fc } = settings;
  return {
    backend: state.backend ?? 'local',
    tableName: state.table,
    ...(state.region ? { region: state.region } : {}),
    ...(state.dynamodbEndpoint ? { endpoint: state.dynamodbEndpoint } : {}),
    stateDir: state.dir,
    ...(state.backend === 'tablestore'
      ? {
          tablestore: {
            endpoint: state.tablestoreEndpoint ?? '',
            instance: state.tablestoreInstance ?? '',
            accessKeyId: fc.accessKeyId ?? '',
            accessKeySecret: fc.accessKeySecret ?? '',
            ...(fc.securityToken ? { securityToken: fc.securityToken } : {}),
          },
        }
      : {}),
  };
}
