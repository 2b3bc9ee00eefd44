using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Processes;

// One registry for the whole test run: any test class takes DistributionRegistry in its constructor.
[assembly: AssemblyFixture(typeof(DistributionRegistry))]

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// The real CNCF distribution registry (<c>docker-registry serve</c>, Debian package installed by
/// scripts/setup.sh), started once per test run on 127.0.0.1 with a free port and its own temporary
/// storage, and stopped on dispose. Take it as a constructor parameter of a test class.
/// </summary>
public sealed class DistributionRegistry : IAsyncLifetime
{
    private const string Executable = "docker-registry";
    private readonly StringBuilder _log = new();
    private Process? _process;

    /// <summary>Host and port, e.g. <c>127.0.0.1:41234</c> (plain HTTP).</summary>
    public string Host { get; private set; } = "";

    /// <summary>Base URL, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl => $"http://{Host}";

    /// <summary>The registry's temporary directory (config and storage).</summary>
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "flytesharp-registry-" + Guid.NewGuid().ToString("N"));

    /// <summary>What the registry printed so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "storage"));
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                await StartAsync(FreePort());
                return;
            }
            catch (InvalidOperationException ex)
            {
                // Most likely the port was taken between probing and binding: try another.
                last = ex;
                Stop();
            }
        }

        throw new InvalidOperationException("could not start the distribution registry", last);
    }

    /// <summary>The repository prefix of the images tests build and push here: <c>{Host}/flytesharp-test/</c>.</summary>
    public string TestImagePrefix => $"{Host}/flytesharp-test/";

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        // The images the run built live in podman's store under this run's (unique) registry port.
        if (Host.Length > 0)
        {
            await RemoveImagesAsync(TestImagePrefix, TestContext.Current.SendDiagnosticMessage);
        }

        Stop();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// Best effort: removes from podman's store every image whose reference starts with <paramref name="prefix"/>
    /// (never the debootstrap base image), reporting what it did to <paramref name="log"/>. Never throws.
    /// </summary>
    internal static async Task<int> RemoveImagesAsync(string prefix, Action<string> log)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var list = await CliProcess.RunAsync("podman", ["images", "--format", "{{.Repository}}:{{.Tag}}"], cancellationToken: timeout.Token);
            if (!list.Succeeded)
            {
                log($"test image cleanup: podman images failed: {list.Combined.Trim()}");
                return 0;
            }

            var images = list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(r => r.StartsWith(prefix, StringComparison.Ordinal) && r != BaseImage.Reference)
                .Distinct(StringComparer.Ordinal).ToList();
            if (images.Count == 0)
            {
                return 0;
            }

            var removed = await CliProcess.RunAsync("podman", ["rmi", "--force", .. images], cancellationToken: timeout.Token);
            log(removed.Succeeded
                ? $"test image cleanup: removed {images.Count} image(s) under {prefix}"
                : $"test image cleanup: podman rmi exited {removed.ExitCode}: {removed.Combined.Trim()}");
            return images.Count;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Cleanup must never fail a test run.
            log($"test image cleanup under {prefix} failed: {ex.Message}");
            return 0;
        }
    }

    private async Task StartAsync(int port)
    {
        Host = $"127.0.0.1:{port}";
        var config = Path.Combine(Directory, "config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(Directory, "storage")}
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: {Host}
            """);

        var start = new ProcessStartInfo(Executable)
        {
            ArgumentList = { "serve", config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        try
        {
            _process = Process.Start(start) ?? throw new InvalidOperationException("docker-registry did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"'{Executable}' is not installed: run scripts/setup.sh (apt-get install -y docker-registry)", ex);
        }

        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited with {_process.ExitCode}:\n{Log}");
            }

            try
            {
                using var response = await http.GetAsync($"{BaseUrl}/v2/");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"docker-registry did not answer GET /v2/ on {Host} within 30 s:\n{Log}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private void Stop()
    {
        if (_process is null)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
        _process = null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
