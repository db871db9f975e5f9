import { arch, cpus, release, totalmem } from 'node:os';

/** The machine a benchmark ran on, stored with its results so runs can be compared. */
export interface MachineInfo {
  /** Model string of the first CPU. */
  cpuModel: string;
  /** Logical CPUs. */
  cpuCount: number;
  /** Installed memory in bytes. */
  totalMemoryBytes: number;
  /** `process.version`. */
  node: string;
  /** e.g. `linux 6.8.0 x64`. */
  os: string;
}

/** Describes the current machine. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    totalMemoryBytes: totalmem(),
    node: process.version,
    os: `${process.platform} ${release()} ${arch()}`,
  };
}
