using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s;
using k8s.Models;

namespace FlyteSharp.Tests.Execution.Kubernetes;

/// <summary>
/// A FAKE Kubernetes API server: no real API server (nor kubelet) can run on this machine, so this in-process
/// <see cref="HttpListener"/> on 127.0.0.1 implements just the endpoints the executor calls — create pod, watch pods,
/// get/list pods, read pod log (follow), delete pod, create/list/delete secrets — records every request, and plays a <see cref="PodScenario"/> per pod.
/// In <see cref="PodScenario.RunLocally"/> it plays the kubelet too: it runs the pod's command on this machine with the
/// pod's environment and secret volumes (the real runner and python3), so the bundle download, the result line and tracebacks are real.
/// It also serves registry blobs (<c>GET /v2/…/blobs/…</c>) so the runner can fetch the code bundle from it.
/// </summary>
internal sealed class FakeKubernetesApi : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, FakePod> _pods = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();
    private readonly string _scratch = Path.Combine(Path.GetTempPath(), "flytesharp-tests", "kube-" + Guid.NewGuid().ToString("n"));
    private readonly Task _loop;

    public FakeKubernetesApi()
    {
        // HttpListener cannot bind port 0: take a free port from the OS first.
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

    public string Host => $"127.0.0.1:{Port}";

    /// <summary>What each created pod does (by default: run its command here).</summary>
    public Func<V1Pod, PodScenario> Scenario { get; set; } = _ => PodScenario.RunLocally;

    /// <summary>How long a pod create takes to answer (the pod exists at once).</summary>
    public TimeSpan CreateDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Every request as "METHOD path?query".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The pods as the client sent them, in creation order.</summary>
    public ConcurrentQueue<V1Pod> Created { get; } = new();

    /// <summary>Names of the pods the client deleted.</summary>
    public ConcurrentQueue<string> Deleted { get; } = new();

    /// <summary>Completes with a pod's name when a watch on it is open.</summary>
    public TaskCompletionSource<string> WatchOpened { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Kubernetes Secrets by name: their data keys and values (served by GET, and set as env by secretKeyRef when a pod runs).</summary>
    public ConcurrentDictionary<string, Dictionary<string, string>> Secrets { get; } = new();

    /// <summary>Secrets the client created, as sent, in creation order.</summary>
    public ConcurrentQueue<V1Secret> CreatedSecrets { get; } = new();

    /// <summary>Names of the Secrets the client deleted.</summary>
    public ConcurrentQueue<string> DeletedSecrets { get; } = new();

    /// <summary>Secrets as objects (with labels and annotations), for list by label selector: created ones, or added by a test.</summary>
    public ConcurrentDictionary<string, V1Secret> SecretObjects { get; } = new();

        /// <summary>A client for this server.</summary>
    public IKubernetes Client() => new k8s.Kubernetes(new KubernetesClientConfiguration { Host = $"http://{Host}/" });

    /// <summary>Serves <paramref name="bytes"/> at <c>/v2/{repository}/blobs/{digest}</c>.</summary>
    public void AddBlob(string repository, string digest, byte[] bytes) => _blobs[$"/v2/{repository}/blobs/{digest}"] = bytes;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close();
        foreach (var pod in _pods.Values)
        {
            pod.Kill();
        }

        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
        }

        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

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
        var path = request.Url!.AbsolutePath;
        Requests.Enqueue($"{request.HttpMethod} {request.Url.PathAndQuery}");
        try
        {
            var segments = path.Trim('/').Split('/');
            if (request.HttpMethod == "GET" && _blobs.TryGetValue(path, out var blob))
            {
                response.ContentType = "application/octet-stream";
                await response.OutputStream.WriteAsync(blob, _stop.Token);
            }
            else if (segments is ["api", "v1", "namespaces", _, "pods"] && request.HttpMethod == "POST")
            {
                await CreateAsync(request, response, segments[3]);
            }
            else if (segments is ["api", "v1", "namespaces", _, "pods"] && request.HttpMethod == "GET" && request.QueryString["watch"] == "true")
            {
                await WatchAsync(request, response);
            }
            else if (segments is ["api", "v1", "namespaces", _, "pods"] && request.HttpMethod == "GET")
            {
                var selector = request.QueryString["labelSelector"] ?? "";
                var matching = _pods.Values.Select(p => p.Current).Where(p => selector.Split(',', StringSplitOptions.RemoveEmptyEntries)
                    .All(term => term.Split('=') is [var key, var value] && p.Metadata.Labels is { } labels && labels.TryGetValue(key, out var found) && found == value)).ToList();
                await WriteJsonAsync(response, 200, KubernetesJson.Serialize(new V1PodList { ApiVersion = "v1", Kind = "PodList", Items = matching, Metadata = new V1ListMeta() }));
            }
            else if (segments is ["api", "v1", "namespaces", _, "pods", var name] && _pods.TryGetValue(name, out var pod))
            {
                if (request.HttpMethod == "DELETE")
                {
                    Deleted.Enqueue(name);
                    pod.Kill();
                    _pods.TryRemove(name, out _);
                }

                await WriteJsonAsync(response, 200, KubernetesJson.Serialize(pod.Current));
            }
            else if (segments is ["api", "v1", "namespaces", _, "secrets"] && request.HttpMethod == "POST")
            {
                using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
                var body = await reader.ReadToEndAsync();
                var created = KubernetesJson.Deserialize<V1Secret>(body);
                CreatedSecrets.Enqueue(created);
                SecretObjects[created.Metadata.Name] = created;
                Secrets[created.Metadata.Name] = (created.Data ?? new Dictionary<string, byte[]>()).ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetString(kv.Value));
                await WriteJsonAsync(response, 201, body);
            }
            else if (segments is ["api", "v1", "namespaces", _, "secrets"] && request.HttpMethod == "GET")
            {
                var selector = request.QueryString["labelSelector"] ?? "";
                var matching = SecretObjects.Values.Where(s => selector.Split(',', StringSplitOptions.RemoveEmptyEntries)
                    .All(term => term.Split('=') is [var key, var value] && s.Metadata.Labels is { } labels && labels.TryGetValue(key, out var found) && found == value)).ToList();
                await WriteJsonAsync(response, 200, KubernetesJson.Serialize(new V1SecretList { ApiVersion = "v1", Kind = "SecretList", Items = matching, Metadata = new V1ListMeta() }));
            }
            else if (segments is ["api", "v1", "namespaces", _, "secrets", var doomed] && request.HttpMethod == "DELETE")
            {
                var existed = Secrets.TryRemove(doomed, out _) | SecretObjects.TryRemove(doomed, out _);
                DeletedSecrets.Enqueue(doomed);
                await WriteJsonAsync(response, existed ? 200 : 404, existed
                    ? """{"kind":"Status","apiVersion":"v1","status":"Success","code":200}"""
                    : """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}""");
            }
            else if (segments is ["api", "v1", "namespaces", var secretNamespace, "secrets", var secretName] && request.HttpMethod == "GET"
                && Secrets.TryGetValue(secretName, out var data))
            {
                var secret = new V1Secret
                {
                    ApiVersion = "v1",
                    Kind = "Secret",
                    Metadata = new V1ObjectMeta { Name = secretName, NamespaceProperty = secretNamespace },
                    Data = data.ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetBytes(kv.Value)),
                };
                await WriteJsonAsync(response, 200, KubernetesJson.Serialize(secret));
            }
            else if (segments is ["api", "v1", "namespaces", _, "pods", var logOf, "log"] && _pods.TryGetValue(logOf, out var logPod))
            {
                var log = await logPod.LogAsync(_stop.Token);
                response.ContentType = "text/plain";
                await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(log), _stop.Token);
            }
            else
            {
                await WriteJsonAsync(response, 404, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}""");
            }
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away (cancellation) or the server stops.
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

    private async Task CreateAsync(HttpListenerRequest request, HttpListenerResponse response, string namespaceName)
    {
        using var reader = new StreamReader(request.InputStream, Encoding.UTF8);
        var pod = KubernetesJson.Deserialize<V1Pod>(await reader.ReadToEndAsync());
        Created.Enqueue(pod);
        pod.Metadata.NamespaceProperty ??= namespaceName;
        pod.Metadata.ResourceVersion = "1";
        pod.Metadata.Uid = Guid.NewGuid().ToString();
        pod.Status = PodStatuses.Pending();
        var fake = new FakePod(pod, Scenario(pod), Path.Combine(_scratch, pod.Metadata.Name), Secrets);
        _pods[pod.Metadata.Name] = fake;
        fake.Start();

        // The pod exists on the server from here on, whether or not the client waits for the answer.
        await Task.Delay(CreateDelay, _stop.Token);
        await WriteJsonAsync(response, 201, KubernetesJson.Serialize(pod));
    }

    private async Task WatchAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        var selector = request.QueryString["fieldSelector"] ?? "";
        var name = selector.StartsWith("metadata.name=", StringComparison.Ordinal) ? selector["metadata.name=".Length..] : "";
        if (!_pods.TryGetValue(name, out var pod))
        {
            await WriteJsonAsync(response, 404, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}""");
            return;
        }

        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.SendChunked = true;
        await response.OutputStream.FlushAsync(_stop.Token);
        WatchOpened.TrySetResult(name);
        var after = long.TryParse(request.QueryString["resourceVersion"], out var rv) ? rv : 0;
        await foreach (var state in pod.StatesAsync(after, _stop.Token))
        {
            var line = $$"""{"type":"MODIFIED","object":{{KubernetesJson.Serialize(state)}}}""" + "\n";
            await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(line), _stop.Token);
            await response.OutputStream.FlushAsync(_stop.Token);
        }
    }

    private async Task WriteJsonAsync(HttpListenerResponse response, int status, string json)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(json), _stop.Token);
    }

    /// <summary>One pod: its scenario played once, its states and log handed to watches and log reads.</summary>
    private sealed class FakePod(V1Pod created, PodScenario scenario, string scratch, ConcurrentDictionary<string, Dictionary<string, string>> secrets)
    {
        private readonly TaskCompletionSource<(IReadOnlyList<V1PodStatus> States, string Log)> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _killed = new();
        private readonly List<V1Pod> _versions = [];

        private V1Pod? _current;

        public V1Pod Current { get => _current ?? created; private set => _current = value; }

        public void Start()
        {
            if (scenario.Kind == PodScenarioKind.Script)
            {
                _done.SetResult((scenario.States, scenario.Log));
            }
            else if (scenario.Kind == PodScenarioKind.RunLocally)
            {
                _ = Task.Run(RunAsync);
            }

            // Hang: never completes; the watch stays open until the client goes away.
        }

        public void Kill() => _killed.Cancel();

        public async Task<string> LogAsync(CancellationToken cancellationToken) =>
            (await _done.Task.WaitAsync(CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _killed.Token).Token)).Log;

        public async IAsyncEnumerable<V1Pod> StatesAsync(long after, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _killed.Token);
            var (states, _) = await _done.Task.WaitAsync(linked.Token);
            lock (_versions)
            {
                if (_versions.Count == 0)
                {
                    var version = 1;
                    foreach (var status in states)
                    {
                        var next = KubernetesJson.Deserialize<V1Pod>(KubernetesJson.Serialize(created));
                        next.Status = status;
                        next.Metadata.ResourceVersion = (++version).ToString(System.Globalization.CultureInfo.InvariantCulture);
                        _versions.Add(next);
                    }

                    if (_versions.Count > 0)
                    {
                        Current = _versions[^1];
                    }
                }
            }

            // Like the API server: a watch from resourceVersion N gets the changes after N.
            foreach (var next in _versions.Where(v => long.Parse(v.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) > after))
            {
                yield return next;
            }
        }

        /// <summary>The kubelet's part: the pod's command run here, its output (stdout and stderr, merged) as the log.</summary>
        private async Task RunAsync()
        {
            var container = created.Spec.Containers[0];
            var command = container.Command.ToList();
            var bundleDir = command.IndexOf("--bundle-dir");
            if (bundleDir >= 0)
            {
                // Each pod has its own filesystem: its /tmp/flytesharp/bundle is a private directory here.
                command[bundleDir + 1] = Path.Combine(scratch, "bundle");
            }

            Directory.CreateDirectory(scratch);
            foreach (var mount in container.VolumeMounts ?? [])
            {
                // The kubelet's secret volumes: the Secret's keys as files in a directory of this pod's own, and the
                // command's paths under the mount point pointed there.
                if (created.Spec.Volumes?.FirstOrDefault(v => v.Name == mount.Name)?.Secret is not { } volume || mount.SubPath is not null
                    || !secrets.TryGetValue(volume.SecretName, out var data))
                {
                    continue;
                }

                var directory = Path.Combine(scratch, "volumes", mount.Name);
                Directory.CreateDirectory(directory);
                foreach (var (key, value) in data)
                {
                    File.WriteAllText(Path.Combine(directory, key), value);
                }

                for (var i = 0; i < command.Count; i++)
                {
                    if (command[i].StartsWith(mount.MountPath + "/", StringComparison.Ordinal))
                    {
                        command[i] = directory + command[i][mount.MountPath.Length..];
                    }
                }
            }

            var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = scratch };
            foreach (var arg in command.Skip(1))
            {
                start.ArgumentList.Add(arg);
            }

            foreach (var env in container.Env ?? [])
            {
                // The kubelet resolves secretKeyRef from the Secret when the container starts.
                start.Environment[env.Name] = env.ValueFrom?.SecretKeyRef is { } reference ? secrets[reference.Name][reference.Key] : env.Value;
            }

            var log = new StringBuilder();
            using var process = new Process { StartInfo = start };
            process.OutputDataReceived += (_, e) => Append(log, e.Data);
            process.ErrorDataReceived += (_, e) => Append(log, e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await process.WaitForExitAsync(_killed.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                return;
            }

            _done.SetResult(([PodStatuses.Running(), PodStatuses.Terminated(process.ExitCode, process.ExitCode == 0 ? "Completed" : "Error")], log.ToString()));
        }

        private static void Append(StringBuilder log, string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                log.Append(line).Append('\n');
            }
        }
    }
}

/// <summary>What the fake does with a created pod.</summary>
internal enum PodScenarioKind
{
    /// <summary>Run the pod's command on this machine.</summary>
    RunLocally,

    /// <summary>Report the given states and log.</summary>
    Script,

    /// <summary>Stay pending until deleted.</summary>
    Hang,
}

/// <summary>A pod's scripted life in the fake API server.</summary>
internal sealed record PodScenario(PodScenarioKind Kind, IReadOnlyList<V1PodStatus> States, string Log)
{
    public static PodScenario RunLocally { get; } = new(PodScenarioKind.RunLocally, [], "");

    public static PodScenario Hang { get; } = new(PodScenarioKind.Hang, [], "");

    public static PodScenario Script(string log, params V1PodStatus[] states) => new(PodScenarioKind.Script, states, log);
}

/// <summary>Pod statuses as a kubelet and scheduler report them.</summary>
internal static class PodStatuses
{
    public static V1PodStatus Pending() => new() { Phase = "Pending" };

    public static V1PodStatus Running() => new()
    {
        Phase = "Running",
        ContainerStatuses = [Container(new V1ContainerState { Running = new V1ContainerStateRunning() })],
    };

    public static V1PodStatus Terminated(int exitCode, string reason) => new()
    {
        Phase = exitCode == 0 ? "Succeeded" : "Failed",
        ContainerStatuses = [Container(new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = exitCode, Reason = reason } })],
    };

    public static V1PodStatus Waiting(string reason, string message) => new()
    {
        Phase = "Pending",
        ContainerStatuses = [Container(new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } })],
    };

    public static V1PodStatus Unschedulable(string message) => new()
    {
        Phase = "Pending",
        Conditions = [new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = message }],
    };

    private static V1ContainerStatus Container(V1ContainerState state) =>
        new() { Name = "task", Image = "img", ImageID = "", Ready = false, RestartCount = 0, State = state };
}
