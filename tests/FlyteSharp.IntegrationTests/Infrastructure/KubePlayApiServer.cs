using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FlyteSharp.Processes;
using FlyteSharp.Execution.Kubernetes;
using k8s;
using k8s.Models;

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// A Kubernetes API server whose kubelet is <c>podman kube play</c>. No real API server can run on this machine, so this
/// small <see cref="HttpListener"/> on 127.0.0.1 answers the calls the Kubernetes executors make (create/watch/get/log/
/// delete pods, create/delete secrets) — and plays every Pod and Secret for real with podman: the Pod's YAML as the
/// executor built it (plus <c>hostNetwork</c>, so its container reaches the test registry and the driver's controller
/// on 127.0.0.1, as a cluster's pods reach theirs by address), its secret volumes, limits, command and exit code. It is
/// the nearest real runtime for the executor's Pods here. A kubeconfig for it lets a whole run go through the normal
/// <c>[kubernetes] kubeconfig</c> path.
/// </summary>
public sealed class KubePlayApiServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, PlayedPod> _pods = new();
    private readonly ConcurrentDictionary<string, string> _secretFiles = new();
    private readonly string _directory;
    private readonly Task _loop;

    public KubePlayApiServer(string directory)
    {
        _directory = directory;
        Directory.CreateDirectory(directory);
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    /// <summary>Every Pod's YAML as played, by pod name.</summary>
    public ConcurrentDictionary<string, string> PlayedYaml { get; } = new();

    /// <summary>Secrets the client created (as sent).</summary>
    public ConcurrentQueue<V1Secret> CreatedSecrets { get; } = new();

    /// <summary>Names of the Secrets the client deleted.</summary>
    public ConcurrentQueue<string> DeletedSecrets { get; } = new();

    /// <summary>Names of the pods the client deleted.</summary>
    public ConcurrentQueue<string> DeletedPods { get; } = new();

    /// <summary>Writes a kubeconfig that points at this server (namespace <c>default</c>) and returns its path.</summary>
    public string WriteKubeconfig()
    {
        var path = Path.Combine(_directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: kube-play
              cluster:
                server: http://127.0.0.1:{Port}
            users:
            - name: kube-play
              user:
                token: not-checked-by-this-server
            contexts:
            - name: kube-play
              context:
                cluster: kube-play
                user: kube-play
                namespace: default
            current-context: kube-play
            """);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }

        // Whatever the client left behind: the test asserts on what it deleted itself.
        foreach (var pod in _pods.Values)
        {
            await PodmanChange("kube", "down", pod.File);
        }

        foreach (var name in _secretFiles.Keys)
        {
            await RemoveSecretAsync(name);
        }
    }

    private static async Task<CliResult> Podman(params string[] arguments) =>
        await CliProcess.RunAsync("podman", arguments, cancellationToken: CancellationToken.None);

    /// <summary>
    /// Runs a podman call that creates or removes pods, secrets or volumes, one at a time across every server of the test
    /// process. podman 4.3 can deadlock a <c>kube play</c> whose pod mounts a secret volume against a concurrent
    /// <c>volume rm --force</c> of that volume (each holds one lock and waits for the other's), and a kubelet never races
    /// itself like that. Calls that only wait or read (<c>wait</c>, <c>logs</c>) stay outside: holding the gate while a
    /// container runs would stall every other server.
    /// </summary>
    private static async Task<CliResult> PodmanChange(params string[] arguments)
    {
        await ChangeGate.WaitAsync();
        try
        {
            return await Podman(arguments);
        }
        finally
        {
            ChangeGate.Release();
        }
    }

    private static readonly SemaphoreSlim ChangeGate = new(1, 1);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        try
        {
            var segments = request.Url!.AbsolutePath.Trim('/').Split('/');
            using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            switch (segments)
            {
                case ["api", "v1", "namespaces", _, "secrets"] when request.HttpMethod == "POST":
                    await CreateSecretAsync(KubernetesJson.Deserialize<V1Secret>(body));
                    await WriteAsync(response, 201, body);
                    break;
                case ["api", "v1", "namespaces", _, "secrets", var name] when request.HttpMethod == "DELETE":
                    DeletedSecrets.Enqueue(name);
                    var existed = await RemoveSecretAsync(name);
                    await WriteAsync(response, existed ? 200 : 404, $$"""{"kind":"Status","apiVersion":"v1","code":{{(existed ? 200 : 404)}}}""");
                    break;
                case ["api", "v1", "namespaces", _, "pods"] when request.HttpMethod == "POST":
                    var pod = await PlayAsync(KubernetesJson.Deserialize<V1Pod>(body));
                    await WriteAsync(response, 201, KubernetesJson.Serialize(pod));
                    break;
                case ["api", "v1", "namespaces", _, "pods"] when request.QueryString["watch"] == "true":
                    await WatchAsync(request, response);
                    break;
                case ["api", "v1", "namespaces", _, "pods", var name, "log"] when _pods.TryGetValue(name, out var logOf):
                    await logOf.Exited.WaitAsync(_stop.Token);
                    var log = await Podman("logs", logOf.Container);
                    response.ContentType = "text/plain";
                    await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(log.Combined), _stop.Token);
                    break;
                case ["api", "v1", "namespaces", _, "pods", var name] when request.HttpMethod == "DELETE" && _pods.TryRemove(name, out var doomed):
                    DeletedPods.Enqueue(name);
                    await PodmanChange("kube", "down", doomed.File);
                    await WriteAsync(response, 200, KubernetesJson.Serialize(doomed.Current));
                    break;
                case ["api", "v1", "namespaces", _, "pods", var name] when _pods.TryGetValue(name, out var read):
                    await WriteAsync(response, 200, KubernetesJson.Serialize(read.Current));
                    break;
                default:
                    await WriteAsync(response, 404, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}""");
                    break;
            }
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }
    }

    /// <summary>
    /// Plays the Secret with podman. podman 4.3.1 writes a secret volume's file as the base64 text of <c>data</c> instead
    /// of the decoded bytes (a podman bug; Kubernetes decodes), and ignores <c>stringData</c>: so the value's own text
    /// goes where the base64 would be. The run's token (64 hex digits) is valid base64 text, so podman accepts it and the
    /// Pod's file holds exactly the token, as on a cluster.
    /// </summary>
    private async Task CreateSecretAsync(V1Secret secret)
    {
        CreatedSecrets.Enqueue(secret);
        var name = secret.Metadata.Name;
        var yaml = new StringBuilder($"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ndata:\n");
        foreach (var (key, value) in secret.Data ?? new Dictionary<string, byte[]>())
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  {key}: {Encoding.ASCII.GetString(value)}\n");
        }

        var file = Path.Combine(_directory, "secret-" + name + ".yaml");
        await File.WriteAllTextAsync(file, yaml.ToString());
        _secretFiles[name] = file;
        var played = await PodmanChange("kube", "play", file);
        Assert.True(played.Succeeded, "podman kube play of the Secret failed:\n" + played.Combined);
    }

    private async Task<bool> RemoveSecretAsync(string name)
    {
        var existed = _secretFiles.TryRemove(name, out var file);
        await PodmanChange("secret", "rm", name);
        await PodmanChange("volume", "rm", "--force", name);
        if (file is not null)
        {
            File.Delete(file);
        }

        return existed;
    }

    private async Task<V1Pod> PlayAsync(V1Pod pod)
    {
        pod.Spec.HostNetwork = true;
        var name = pod.Metadata.Name;
        var yaml = KubernetesYaml.Serialize(pod);
        var file = Path.Combine(_directory, name + ".yaml");
        await File.WriteAllTextAsync(file, yaml);
        PlayedYaml[name] = yaml;
        pod.Metadata.ResourceVersion = "1";
        pod.Status = new V1PodStatus { Phase = "Pending" };
        var played = new PlayedPod(file, $"{name}-{KubernetesPodSpec.ContainerName}", pod);
        _pods[name] = played;
        var result = await PodmanChange("kube", "play", "--tls-verify=false", file);
        if (!result.Succeeded)
        {
            played.Fail("CreateContainerError", result.Combined);
            return pod;
        }

        played.Running();
        _ = Task.Run(async () =>
        {
            var waited = await Podman("wait", played.Container);
            var code = int.TryParse(waited.StandardOutput.Trim().Split('\n')[^1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var c) ? c : -1;
            played.Terminated(code);
        });
        return pod;
    }

    private async Task WatchAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        var selector = request.QueryString["fieldSelector"] ?? "";
        var name = selector.StartsWith("metadata.name=", StringComparison.Ordinal) ? selector["metadata.name=".Length..] : "";
        if (!_pods.TryGetValue(name, out var pod))
        {
            await WriteAsync(response, 404, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}""");
            return;
        }

        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.SendChunked = true;
        await response.OutputStream.FlushAsync(_stop.Token);
        var after = long.TryParse(request.QueryString["resourceVersion"], out var rv) ? rv : 0;
        await foreach (var state in pod.StatesAfterAsync(after, _stop.Token))
        {
            var line = $$"""{"type":"MODIFIED","object":{{KubernetesJson.Serialize(state)}}}""" + "\n";
            await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(line), _stop.Token);
            await response.OutputStream.FlushAsync(_stop.Token);
        }
    }

    private async Task WriteAsync(HttpListenerResponse response, int status, string json)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(json), _stop.Token);
    }

    /// <summary>One played pod: its versions as the kubelet would report them.</summary>
    private sealed class PlayedPod(string file, string container, V1Pod created)
    {
        private readonly List<V1Pod> _versions = [];
        private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string File { get; } = file;

        public string Container { get; } = container;

        public Task Exited => _exited.Task;

        public V1Pod Current
        {
            get
            {
                lock (_versions)
                {
                    return _versions.Count == 0 ? created : _versions[^1];
                }
            }
        }

        public void Running() => Add(new V1PodStatus
        {
            Phase = "Running",
            ContainerStatuses = [Status(new V1ContainerState { Running = new V1ContainerStateRunning() })],
        });

        public void Terminated(int exitCode)
        {
            Add(new V1PodStatus
            {
                Phase = exitCode == 0 ? "Succeeded" : "Failed",
                ContainerStatuses = [Status(new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = exitCode, Reason = exitCode == 0 ? "Completed" : "Error" } })],
            });
            _exited.TrySetResult();
        }

        public void Fail(string reason, string message)
        {
            Add(new V1PodStatus { Phase = "Pending", ContainerStatuses = [Status(new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } })] });
            _exited.TrySetResult();
        }

        public async IAsyncEnumerable<V1Pod> StatesAfterAsync(long after, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            while (true)
            {
                Task changed;
                List<V1Pod> fresh;
                lock (_versions)
                {
                    fresh = _versions.Where(v => long.Parse(v.Metadata.ResourceVersion, CultureInfo.InvariantCulture) > after).ToList();
                    changed = _changed.Task;
                }

                foreach (var version in fresh)
                {
                    after = long.Parse(version.Metadata.ResourceVersion, CultureInfo.InvariantCulture);
                    yield return version;
                    if (version.Status.Phase is "Succeeded" or "Failed" || version.Status.ContainerStatuses?[0].State.Waiting is not null)
                    {
                        yield break;
                    }
                }

                await changed.WaitAsync(cancellationToken);
            }
        }

        private void Add(V1PodStatus status)
        {
            lock (_versions)
            {
                var next = KubernetesJson.Deserialize<V1Pod>(KubernetesJson.Serialize(created));
                next.Status = status;
                next.Metadata.ResourceVersion = (_versions.Count + 2).ToString(CultureInfo.InvariantCulture);
                _versions.Add(next);
                var changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                changed.TrySetResult();
            }
        }

        private static V1ContainerStatus Status(V1ContainerState state) =>
            new() { Name = KubernetesPodSpec.ContainerName, Image = "", ImageID = "", Ready = false, RestartCount = 0, State = state };
    }
}
