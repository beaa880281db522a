/**
 * A real one-node Slurm for tests: munged, slurmctld and slurmd on localhost, run as root from a
 * generated slurm.conf with every state, spool, log, pid and socket file under one temp folder (no
 * cgroups, no accounting, no systemd). `startCluster` returns null, with the reason, where that cannot
 * work (not root, not Linux, Debian's slurm-wlm/munge not installed).
 * @module
 */
import { join } from "node:path";
import { hostname } from "node:os";

/** A running test cluster. */
export interface TestCluster {
  /** Its slurm.conf (clients find it through the SLURM_CONF environment variable). */
  conf: string;
  dir: string;
  /** Stop the daemons (each by its pid file) and remove the folder. */
  stop(): Promise<void>;
}

const DAEMONS = {
  munged: "/usr/sbin/munged",
  slurmctld: "/usr/sbin/slurmctld",
  slurmd: "/usr/sbin/slurmd",
};

async function onPath(cmd: string): Promise<boolean> {
  try {
    return (await new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

/** Why a one-node cluster cannot be started here, or null when it can. */
export async function clusterUnavailable(): Promise<string | null> {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return "not root (the test cluster runs its daemons as root)";
  for (const [name, path] of Object.entries(DAEMONS)) {
    try {
      await Deno.stat(path);
    } catch {
      return `${name} not installed (apt-get install slurm-wlm munge; .ci/run does this)`;
    }
  }
  for (const c of ["sbatch", "squeue", "sinfo", "scontrol"]) {
    if (!(await onPath(c))) return `${c} not on PATH`;
  }
  return null;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function exec(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr).trim()}`);
  return dec.decode(out.stdout);
}

async function killPidFile(path: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await Deno.readTextFile(path)).trim());
  } catch {
    return;
  }
  if (!(pid > 1)) return;
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  // Wait until it has gone, so the next test (or cluster) finds its ports free.
  for (let i = 0; i < 100; i++) {
    let stat: string;
    try {
      stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    } catch {
      return;
    }
    if (/^\d+ \(.*\) [ZX]/.test(stat)) return; // exited; its parent has not reaped it yet
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
}

/** Start munged, slurmctld and slurmd with `cpus` CPUs; waits until the node is idle. */
export async function startCluster(cpus = 2): Promise<TestCluster> {
  const dir = await Deno.makeTempDir({ prefix: "slurm_test_" });
  for (const d of ["munge", "state", "spool", "log"]) await Deno.mkdir(join(dir, d));
  const key = join(dir, "munge", "munge.key");
  await Deno.writeFile(key, crypto.getRandomValues(new Uint8Array(1024)), { mode: 0o600 });
  await Deno.chmod(key, 0o600);
  const socket = join(dir, "munge", "munge.socket");
  const conf = join(dir, "slurm.conf");
  const pidFiles = [join(dir, "slurmd.pid"), join(dir, "slurmctld.pid"), join(dir, "munge", "munged.pid")];
  const stop = async () => {
    for (const p of pidFiles) await killPidFile(p);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await exec(DAEMONS.munged, [
      "--force", // munged refuses root without it
      `--key-file=${key}`,
      `--socket=${socket}`,
      `--pid-file=${pidFiles[2]}`,
      `--log-file=${join(dir, "munge", "munged.log")}`,
      `--seed-file=${join(dir, "munge", "munged.seed")}`,
    ]);
    await Deno.writeTextFile(
      conf,
      [
        "ClusterName=satest",
        "SlurmctldHost=localhost",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        `AuthInfo=socket=${socket}`,
        "CredType=cred/munge",
        `SlurmctldPort=${freePort()}`,
        `SlurmdPort=${freePort()}`,
        `StateSaveLocation=${join(dir, "state")}`,
        `SlurmdSpoolDir=${join(dir, "spool")}`,
        `SlurmctldPidFile=${pidFiles[1]}`,
        `SlurmdPidFile=${pidFiles[0]}`,
        `SlurmctldLogFile=${join(dir, "log", "slurmctld.log")}`,
        `SlurmdLogFile=${join(dir, "log", "slurmd.log")}`,
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "MpiDefault=none",
        "ReturnToService=2",
        "SchedulerType=sched/builtin",
        // The node's CPUs come from here even where the machine has more or fewer.
        "SlurmdParameters=config_overrides",
        `NodeName=satest NodeHostname=${hostname()} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN`,
        "PartitionName=test Nodes=satest Default=YES MaxTime=INFINITE State=UP",
        "",
      ].join("\n"),
    );
    const env = { SLURM_CONF: conf };
    await exec(DAEMONS.slurmctld, [], env);
    await exec(DAEMONS.slurmd, ["-N", "satest"], env);
    for (let i = 0;; i++) {
      const state = await exec("sinfo", ["-h", "-o", "%t"], env).catch(() => "");
      if (state.trim() === "idle") break;
      if (i >= 150) throw new Error(`the test node did not come up (sinfo: "${state.trim()}")`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    const logs = await Deno.readTextFile(join(dir, "log", "slurmctld.log")).catch(() => "");
    await stop();
    throw new Error(`${(e as Error).message}\n${logs.split("\n").slice(-10).join("\n")}`);
  }
  return { conf, dir, stop };
}
