/**
 * Reads what the final stage of a Dockerfile runs: its base image, user, health check, the
 * files it copies from the build stage and the command — enough to check, without a Docker
 * engine, that the command's file is what `npm run build:relay` produces.
 */
import { posix } from 'node:path';

export interface FinalStage {
  from: string;
  user: string | undefined;
  workdir: string;
  healthcheck: string | undefined;
  /** Files the final stage copies from an earlier stage: source in that stage → destination. */
  copies: { from: string; source: string; dest: string }[];
  cmd: string[];
  /** WORKDIR of each named stage, by name. */
  stageWorkdirs: Record<string, string>;
  runs: string[];
  /** Paths any stage copies from the build context (COPY without --from), all stages. */
  contextSources: string[];
}

/** Joins continuation lines and drops comments. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** Parses the last stage of `text` (plus the WORKDIR of every named stage). */
export function finalStage(text: string): FinalStage {
  const stageWorkdirs: Record<string, string> = {};
  const contextSources: string[] = [];
  let stage: FinalStage | undefined;
  let stageName: string | undefined;
  for (const line of instructions(text)) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    switch (keyword.toUpperCase()) {
      case 'FROM': {
        const words = rest.filter((w) => !w.startsWith('--'));
        stageName = words[2];
        stage = {
          from: words[0] ?? '',
          user: undefined,
          workdir: '/',
          healthcheck: undefined,
          copies: [],
          cmd: [],
          stageWorkdirs,
          runs: [],
          contextSources,
        };
        break;
      }
      case 'WORKDIR':
        if (stage) stage.workdir = posix.resolve(stage.workdir, args);
        if (stage && stageName) stageWorkdirs[stageName] = stage.workdir;
        break;
      case 'USER':
        if (stage) stage.user = args;
        break;
      case 'HEALTHCHECK':
        if (stage) stage.healthcheck = args;
        break;
      case 'RUN':
        stage?.runs.push(args);
        break;
      case 'COPY': {
        const from = rest.find((w) => w.startsWith('--from='))?.slice(7);
        const paths = rest.filter((w) => !w.startsWith('--'));
        if (!from) contextSources.push(...paths.slice(0, -1));
        if (stage && from && paths.length === 2) {
          stage.copies.push({
            from,
            source: paths[0]!,
            dest: posix.resolve(stage.workdir, paths[1]!),
          });
        }
        break;
      }
      case 'CMD':
        if (stage) stage.cmd = JSON.parse(args) as string[];
        break;
    }
  }
  if (!stage) throw new Error('no FROM in the Dockerfile');
  return stage;
}
