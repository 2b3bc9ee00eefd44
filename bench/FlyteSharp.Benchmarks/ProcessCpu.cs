using System.Globalization;

namespace FlyteSharp.Benchmarks;

/// <summary>
/// CPU time of every process on the machine, from <c>/proc/PID/task/TID/schedstat</c> (nanoseconds on a CPU, per
/// thread, summed per process): two snapshots around a measurement say where its CPU went — this driver, the
/// <c>podman run</c> processes it started, the containers' conmon and what runs under it (init and the runner), and
/// everything else on the machine (other work sharing the cores). Threads or processes that end between the snapshots
/// are not counted (none do in a steady-state measurement of warm replicas).
/// </summary>
internal sealed class ProcessCpu
{
    private readonly Dictionary<int, Entry> _processes;

    private ProcessCpu(Dictionary<int, Entry> processes) => _processes = processes;

    private sealed record Entry(int ParentId, string Command, string CommandLine, long Nanoseconds);

    /// <summary>Where the CPU went between two snapshots, in milliseconds.</summary>
    internal sealed record Breakdown(double Driver, double Podman, double Conmon, double Containers, double Other)
    {
        public double Ours => Driver + Podman + Conmon + Containers;
    }

    public static bool IsAvailable => File.Exists("/proc/self/schedstat");

    public static ProcessCpu Take()
    {
        var processes = new Dictionary<int, Entry>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var close = stat.LastIndexOf(')');
                var command = stat[(stat.IndexOf('(') + 1)..close];
                var parent = int.Parse(stat[(close + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                long nanoseconds = 0;
                foreach (var task in Directory.EnumerateDirectories(Path.Combine(directory, "task")))
                {
                    var schedstat = File.ReadAllText(Path.Combine(task, "schedstat"));
                    nanoseconds += long.Parse(schedstat[..schedstat.IndexOf(' ')], CultureInfo.InvariantCulture);
                }

                processes[pid] = new Entry(parent, command, commandLine, nanoseconds);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
            {
                // The process ended while it was read.
            }
        }

        return new ProcessCpu(processes);
    }

    /// <summary>
    /// The CPU spent from <paramref name="before"/> to <paramref name="after"/>: the driver (this process), its
    /// <c>podman</c> children, the conmon of each container whose command line holds <paramref name="containerMarker"/>
    /// (part of the replicas' names), and those conmons' descendants (the containers' init and runner).
    /// </summary>
    public static Breakdown Between(ProcessCpu before, ProcessCpu after, string containerMarker)
    {
        var self = Environment.ProcessId;
        double driver = 0, podman = 0, conmon = 0, containers = 0, other = 0;
        var conmons = after._processes.Where(p => p.Value.Command == "conmon" && p.Value.CommandLine.Contains(containerMarker, StringComparison.Ordinal))
            .Select(p => p.Key).ToHashSet();
        foreach (var (pid, entry) in after._processes)
        {
            if (!before._processes.TryGetValue(pid, out var earlier) || earlier.Command != entry.Command)
            {
                continue;
            }

            // A thread that ended between the snapshots takes its time out of its process's sum: never count that as negative.
            var milliseconds = Math.Max(0, entry.Nanoseconds - earlier.Nanoseconds) / 1e6;
            if (pid == self)
            {
                driver += milliseconds;
            }
            else if (entry.ParentId == self && entry.Command == "podman")
            {
                podman += milliseconds;
            }
            else if (conmons.Contains(pid))
            {
                conmon += milliseconds;
            }
            else if (DescendsFrom(after, pid, conmons))
            {
                containers += milliseconds;
            }
            else
            {
                other += milliseconds;
            }
        }

        return new Breakdown(driver, podman, conmon, containers, other);
    }

    private static bool DescendsFrom(ProcessCpu snapshot, int pid, HashSet<int> ancestors)
    {
        for (var depth = 0; depth < 32 && snapshot._processes.TryGetValue(pid, out var entry); depth++)
        {
            if (ancestors.Contains(entry.ParentId))
            {
                return true;
            }

            pid = entry.ParentId;
        }

        return false;
    }
}
