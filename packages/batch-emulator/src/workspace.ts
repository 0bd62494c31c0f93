import { mkdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ContainerSpec, TaskSpec } from "./types.js";

/**
 * The local file system of one attempt ("the job sees its files at the container path, mapped into a
 * local folder, told where through an environment variable"):
 *
 *   <workDir>/volumes/<volume>/                     one folder per task volume
 *   <workDir>/containers/<container>/               the container's root, passed as BATCH_LOCAL_ROOT
 *   <workDir>/containers/<container><containerPath> a symlink to the mounted volume's folder
 *
 * so container path P is `$BATCH_LOCAL_ROOT + P`, and containers sharing a volume see the same files.
 * EFS volumes are folders under `<dataDir>/efs/` instead, kept across jobs as the file system is.
 */
export const containerRoot = (workDir: string, container: ContainerSpec) =>
  join(workDir, "containers", container.name);

export const volumeDir = (workDir: string, volume: string) => join(workDir, "volumes", volume);

export function prepareWorkspace(workDir: string, task: TaskSpec, dataDir?: string) {
  const folder = (volume: string) => {
    const shared = task.sharedVolumes?.[volume];
    return shared && dataDir ? join(dataDir, shared) : volumeDir(workDir, volume);
  };
  for (const volume of task.volumes) mkdirSync(folder(volume), { recursive: true });
  for (const container of task.containers) {
    const root = containerRoot(workDir, container);
    mkdirSync(root, { recursive: true });
    for (const mount of container.mountPoints) {
      const volume = folder(mount.sourceVolume);
      mkdirSync(volume, { recursive: true });
      const target = join(root, mount.containerPath);
      mkdirSync(dirname(target), { recursive: true });
      symlinkSync(volume, target, "dir");
    }
  }
}
