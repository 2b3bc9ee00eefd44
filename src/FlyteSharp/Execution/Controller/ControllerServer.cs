using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FlyteSharp.Controller;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Controller;

/// <summary>
/// The driver's side of the controller API, one per run: serves <c>POST /v1/actions/{parent}/children</c> on a Unix
/// socket in the run's sandbox (container mode: the executor bind-mounts it into the container) or on TCP (Kubernetes
/// mode), admits only requests with the run's token, and only for parents an executor has <see cref="Register"/>ed while
/// their container runs. A child call goes to <see cref="RunController.CallChildAsync"/>, so it is recorded under its
/// parent, runs where its environment says and counts against the run's concurrency bound.
/// </summary>
internal sealed class ControllerServer : IAsyncDisposable
{
    /// <summary>Longest Unix socket path used in the sandbox (sun_path holds 108 bytes with its NUL); longer sandboxes use a short private directory.</summary>
    internal const int MaxSocketPathBytes = 100;

    private readonly RunController? _run;
    private readonly TimeProvider _time;
    private readonly Socket _listener;
    private readonly ControllerToken _token;
    private readonly ControllerHttpLimits _limits;
    private readonly ControllerTaskCatalog _catalog;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _connections;
    private readonly ConcurrentDictionary<string, Registration> _parents = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _finished = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, Task> _serving = new();
    private readonly ConcurrentDictionary<string, ReplicaMailbox> _replicas = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _retiredReplicas = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _retiredOrder = new();
    private readonly string? _privateSocketDirectory;
    private readonly Task _acceptLoop;
    private long _connectionIds;
    private int _disposed;

    private ControllerServer(RunController? run, TimeProvider time, Socket listener, ControllerToken token, string tokenFile, ControllerAddress address, string? privateSocketDirectory, ControllerHttpLimits limits)
    {
        _run = run;
        _time = time;
        _listener = listener;
        _token = token;
        _limits = limits;
        TokenFile = tokenFile;
        Address = address;
        _privateSocketDirectory = privateSocketDirectory;
        _connections = new SemaphoreSlim(limits.MaxConnections, limits.MaxConnections);
        _catalog = new ControllerTaskCatalog(() => run?.KnownTasks ?? []);

        // The loop must not carry the starter's async-locals (a task body's ActionScope, console capture) into every request.
        using (ExecutionContext.SuppressFlow())
        {
            _acceptLoop = Task.Run(AcceptLoopAsync);
        }
    }

    /// <summary>Where the driver serves the API (<c>unix:{host path}</c> or <c>http://host:port</c> as workers reach it).</summary>
    public ControllerAddress Address { get; }

    /// <summary>The socket's path on the driver's host (bind-mount it at <see cref="ControllerProtocol.ContainerSocketPath"/>); null for TCP.</summary>
    public string? SocketPath => Address.SocketPath;

    /// <summary>The run's token file (0400; bind-mount it at <see cref="ControllerProtocol.ContainerTokenPath"/>).</summary>
    public string TokenFile { get; }

    /// <summary>The run's token, for executors that must hand it over other than as a file (a Kubernetes Secret). Never log it.</summary>
    internal ControllerToken Token => _token;

    /// <summary>Starts a server on a Unix socket in <paramref name="directory"/> (created 0700), with the token file beside it.</summary>
    public static ControllerServer StartUnix(RunController run, string directory, ControllerHttpLimits? limits = null)
    {
        CreatePrivateDirectory(directory);
        var socketPath = Path.Combine(directory, "controller.sock");
        string? privateDirectory = null;
        if (Encoding.UTF8.GetByteCount(socketPath) > MaxSocketPathBytes)
        {
            privateDirectory = Path.Combine(Path.GetTempPath(), "flytesharp-controller-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)));
            CreatePrivateDirectory(privateDirectory);
            socketPath = Path.Combine(privateDirectory, "controller.sock");
        }

        var token = ControllerToken.Create();
        var tokenFile = Path.Combine(directory, "controller.token");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            token.WriteTo(tokenFile);
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            listener.Listen(128);
        }
        catch
        {
            listener.Dispose();
            TryDelete(socketPath);
            TryDelete(tokenFile);
            TryDeleteDirectory(privateDirectory);
            throw;
        }

        return new ControllerServer(run, run.Time, listener, token, tokenFile, ControllerAddress.Unix(socketPath), privateDirectory, limits ?? ControllerHttpLimits.Default);
    }

    /// <summary>Starts a server on TCP (Kubernetes mode), with the token file in <paramref name="directory"/>.</summary>
    /// <param name="run">The run.</param>
    /// <param name="directory">Where the token file goes (created 0700).</param>
    /// <param name="listen"><c>host:port</c> to listen on (port 0: any free port).</param>
    /// <param name="advertisedUrl">The URL Pods reach the driver at; null: <c>http://{listen host}:{port}</c>.</param>
    /// <param name="limits">Request limits.</param>
    public static ControllerServer StartTcp(RunController run, string directory, string listen, string? advertisedUrl, ControllerHttpLimits? limits = null) =>
        StartTcp(run, run?.Time ?? TimeProvider.System, directory, listen, advertisedUrl, limits);

    /// <summary>
    /// Starts a server on TCP that serves only pulling replicas (<see cref="OpenReplica"/>), for no run: the replica Pods
    /// of <c>ReuseScope.Global</c> environments, which outlive the run that started them.
    /// </summary>
    /// <param name="time">The clock (replicas' last contact).</param>
    /// <param name="directory">Where the token file goes (created 0700).</param>
    /// <param name="listen"><c>host:port</c> to listen on (port 0: any free port).</param>
    /// <param name="advertisedUrl">The URL Pods reach the driver at (<c>{port}</c>: the port listened on).</param>
    public static ControllerServer StartReplicaHub(TimeProvider time, string directory, string listen, string advertisedUrl) =>
        StartTcp(null, time, directory, listen, advertisedUrl, null);

    private static ControllerServer StartTcp(RunController? run, TimeProvider time, string directory, string listen, string? advertisedUrl, ControllerHttpLimits? limits)
    {
        var endpoint = ParseListen(listen);
        CreatePrivateDirectory(directory);
        var token = ControllerToken.Create();
        var tokenFile = Path.Combine(directory, "controller.token");
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            token.WriteTo(tokenFile);
            listener.Bind(endpoint);
            listener.Listen(128);
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            TryDelete(tokenFile);
            throw new FlyteSharpException($"the controller API cannot listen on {listen}: {ex.Message}",
                fix: "set [kubernetes] controller_listen in flytesharp.toml to a free host:port of this machine (port 0 picks one)");
        }

        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        ControllerAddress address;
        try
        {
            address = advertisedUrl is { } url
                ? ControllerAddress.Parse(url.Replace("{port}", port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))
                : ControllerAddress.Http(endpoint.Address.ToString(), port);
        }
        catch (FlyteSharpException ex)
        {
            listener.Dispose();
            TryDelete(tokenFile);
            throw new FlyteSharpException($"[kubernetes] controller_url '{advertisedUrl}' is not an http://host:port URL: {ex.Reason}",
                fix: "set [kubernetes] controller_url in flytesharp.toml to the URL Pods reach this driver at, e.g. \"http://driver.example:7443\" ({port} stands for the port listened on)");
        }

        return new ControllerServer(run, time, listener, token, tokenFile, address, null, limits ?? ControllerHttpLimits.Default);
    }

    /// <summary>How many retired replica ids are remembered (for a 410 to their late polls).</summary>
    internal const int MaxRetiredReplicas = 1024;

    /// <summary>How many retired replica ids are remembered now.</summary>
    internal int RetiredReplicaCount => _retiredReplicas.Count;

    /// <summary>How long a replica's poll waits for a request before it is answered 204 (and the replica polls again).</summary>
    internal TimeSpan ReplicaPollWait { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>The largest request body accepted (a replica's reply included): larger ones get 413.</summary>
    public long MaxBodyBytes => _limits.MaxBodyBytes;

    /// <summary>
    /// Opens the mailbox of a pulling replica with a new random id: its polls and replies are admitted (with the run's
    /// token) until the mailbox is disposed. Ids are unguessable and per server, so no other run's replica is served.
    /// </summary>
    public ReplicaMailbox OpenReplica(string namePrefix)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var id = namePrefix + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var mailbox = new ReplicaMailbox(id, _time, m =>
        {
            // Remembered only to answer a late poll with 410 (stop): the process-wide hub retires replicas for as long as the
            // driver lives, so the oldest are forgotten (their late poll gets 404, which stops the runner as well).
            _retiredReplicas[m.Id] = 0;
            _retiredOrder.Enqueue(m.Id);
            while (_retiredOrder.Count > MaxRetiredReplicas && _retiredOrder.TryDequeue(out var oldest))
            {
                _retiredReplicas.TryRemove(oldest, out _);
            }

            _replicas.TryRemove(new KeyValuePair<string, ReplicaMailbox>(m.Id, m));
        });
        _replicas[id] = mailbox;
        return mailbox;
    }

    /// <summary>
    /// Makes <paramref name="parent"/> a valid parent for child calls until the returned handle is disposed (when its
    /// container ends). Afterwards calls naming it get 409, and calls still waiting for a child get 409 too.
    /// </summary>
    public IDisposable Register(ActionScope parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        var registration = new Registration(this, parent);
        if (!_parents.TryAdd(parent.ActionId, registration))
        {
            throw new InvalidOperationException($"action {parent.ActionId} is already registered with the controller");
        }

        _finished.TryRemove(parent.ActionId, out _);
        return registration;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_serving.Values).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A connection stuck in a write: its socket is closed with the process; the run's end does not wait for it.
        }

        if (SocketPath is { } socket)
        {
            TryDelete(socket);
        }

        TryDelete(TokenFile);
        TryDeleteDirectory(_privateSocketDirectory);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException || (ex is SocketException && _stopping.IsCancellationRequested))
            {
                return;
            }
            catch (SocketException)
            {
                // A connection that failed while being accepted (reset): keep serving the others.
                continue;
            }

            var id = Interlocked.Increment(ref _connectionIds);
            var serving = ServeAsync(id, client);
            _serving[id] = serving;
            if (serving.IsCompleted)
            {
                _serving.TryRemove(id, out _);
            }
        }
    }

    private async Task ServeAsync(long id, Socket client)
    {
        await Task.Yield();
        var admitted = _connections.Wait(0);
        try
        {
            using (client)
            {
                var stream = new NetworkStream(client, ownsSocket: false);
                await using var streamDisposal = stream.ConfigureAwait(false);
                var (status, body) = admitted
                    ? await HandleAsync(stream).ConfigureAwait(false)
                    : (503, ErrorBody(new ControllerError(ControllerProtocol.ErrorTypes.Busy, $"the controller serves at most {_limits.MaxConnections} connections at once; try again")));
                if (status != 0)
                {
                    using var writeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await ControllerHttp.WriteResponseAsync(stream, status, body, writeTimeout.Token).ConfigureAwait(false);
                }

                client.Shutdown(SocketShutdown.Send);
                await DrainAsync(stream).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away (or the run ended) before the reply was written: nobody is left to read it.
        }
        finally
        {
            if (admitted)
            {
                _connections.Release();
            }

            _serving.TryRemove(id, out _);
        }
    }

    /// <summary>
    /// Reads what the client still sends (bounded: 1 MiB, 1 s) before closing: closing a socket with unread input resets
    /// the connection, and the client may then lose the reply it has not read yet (a refused oversized request).
    /// </summary>
    private static async Task DrainAsync(NetworkStream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var buffer = new byte[16 * 1024];
        for (var total = 0; total < 1024 * 1024;)
        {
            var read = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            total += read;
        }
    }

    /// <summary>One request: its status and body, or status 0 when the client left and there is nobody to answer.</summary>
    private async Task<(int Status, byte[] Body)> HandleAsync(NetworkStream stream)
    {
        ControllerHttpHead head;
        using (var headTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
        {
            headTimeout.CancelAfter(_limits.HeadTimeout);
            try
            {
                head = await ControllerHttp.ReadHeadAsync(stream, _limits, headTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
            {
                return Refuse(408, ControllerProtocol.ErrorTypes.Timeout, $"the request line and headers did not arrive within {_limits.HeadTimeout.TotalSeconds:0.#} s");
            }
            catch (ControllerHttpException ex)
            {
                return Refuse(ex.Status, ex.Type, ex.Message);
            }
            catch (EndOfStreamException)
            {
                return (0, []);
            }
        }

        // Nothing but the token check answers an unauthenticated request: no route, parent or task is revealed.
        if (!_token.Admits(head.Header("authorization")))
        {
            return Refuse(401, ControllerProtocol.ErrorTypes.Unauthorized, "missing or wrong bearer token: send Authorization: Bearer <the run's token>");
        }

        var path = head.Target;
        if (path.StartsWith(ReplicaPrefix, StringComparison.Ordinal))
        {
            return await HandleReplicaAsync(head, stream).ConfigureAwait(false);
        }

        const string prefix = "/v1/actions/";
        const string suffix = "/children";
        if (!path.StartsWith(prefix, StringComparison.Ordinal) || !path.EndsWith(suffix, StringComparison.Ordinal) || path.Length <= prefix.Length + suffix.Length)
        {
            return Refuse(404, ControllerProtocol.ErrorTypes.NotFound, $"no endpoint {Printable(path)}: the API has POST /v1/actions/{{parentActionId}}/children");
        }

        var parentId = Uri.UnescapeDataString(path[prefix.Length..^suffix.Length]);
        if (head.Method != "POST")
        {
            return Refuse(405, ControllerProtocol.ErrorTypes.MethodNotAllowed, $"{head.Method} is not allowed here: use POST");
        }

        if (!_parents.TryGetValue(parentId, out var registration))
        {
            return _finished.ContainsKey(parentId)
                ? Refuse(409, ControllerProtocol.ErrorTypes.Conflict, $"parent action {Printable(parentId)} is no longer running")
                : Refuse(404, ControllerProtocol.ErrorTypes.NotFound, $"no running action {Printable(parentId)} in {Owner}");
        }

        var (body, refusal) = await ReadBodyAsync(head, stream).ConfigureAwait(false);
        if (body is null)
        {
            return refusal;
        }

        return await CallAsync(registration, body).ConfigureAwait(false);
    }

    /// <summary>The request's body, or the answer to give instead (a refusal; status 0 when the client left).</summary>
    private async Task<(byte[]? Body, (int Status, byte[] Body) Refusal)> ReadBodyAsync(ControllerHttpHead head, NetworkStream stream)
    {
        using var bodyTimeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        bodyTimeout.CancelAfter(_limits.BodyTimeout);
        try
        {
            var length = ControllerHttp.ContentLength(head, _limits);
            if (head.Leftover.IsEmpty && length > 0 && string.Equals(head.Header("expect"), "100-continue", StringComparison.OrdinalIgnoreCase))
            {
                await ControllerHttp.WriteContinueAsync(stream, bodyTimeout.Token).ConfigureAwait(false);
            }

            return (await ControllerHttp.ReadBodyAsync(stream, head, length, bodyTimeout.Token).ConfigureAwait(false), default);
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            return (null, Refuse(408, ControllerProtocol.ErrorTypes.Timeout, $"the body did not arrive within {_limits.BodyTimeout.TotalSeconds:0.#} s"));
        }
        catch (ControllerHttpException ex)
        {
            return (null, Refuse(ex.Status, ex.Type, ex.Message));
        }
        catch (EndOfStreamException)
        {
            return (null, (0, []));
        }
    }

    private const string ReplicaPrefix = "/v1/replicas/";

    /// <summary>
    /// The pulling replicas' endpoints: <c>GET {id}/next</c> (long poll), <c>POST {id}/replies</c>, <c>POST {id}/heartbeat</c>.
    /// An id this server did not open (another run's replica, a guess) is 404; a retired one 410, which stops its loop.
    /// </summary>
    private async Task<(int Status, byte[] Body)> HandleReplicaAsync(ControllerHttpHead head, NetworkStream stream)
    {
        var rest = head.Target[ReplicaPrefix.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var id = slash > 0 ? Uri.UnescapeDataString(rest[..slash]) : "";
        var endpoint = slash > 0 ? rest[(slash + 1)..] : "";
        var (method, known) = endpoint switch
        {
            "next" => ("GET", true),
            "replies" or "heartbeat" => ("POST", true),
            _ => ("", false),
        };
        if (!known)
        {
            return Refuse(404, ControllerProtocol.ErrorTypes.NotFound, $"no endpoint {Printable(head.Target)}: replicas have GET {{id}}/next, POST {{id}}/replies and POST {{id}}/heartbeat");
        }

        if (head.Method != method)
        {
            return Refuse(405, ControllerProtocol.ErrorTypes.MethodNotAllowed, $"{head.Method} is not allowed here: use {method}");
        }

        if (!_replicas.TryGetValue(id, out var mailbox))
        {
            return _retiredReplicas.ContainsKey(id)
                ? (410, ErrorBody(new ControllerError(ControllerProtocol.ErrorTypes.Conflict, $"replica {Printable(id)} was retired: stop")))
                : Refuse(404, ControllerProtocol.ErrorTypes.NotFound, $"no replica {Printable(id)} in {Owner}");
        }

        switch (endpoint)
        {
            case "next":
                return await mailbox.NextAsync(ReplicaPollWait, _stopping.Token).ConfigureAwait(false);
            case "heartbeat":
                mailbox.Heartbeat();
                return (204, []);
            default:
                var (body, refusal) = await ReadBodyAsync(head, stream).ConfigureAwait(false);
                if (body is null)
                {
                    return refusal;
                }

                var (status, error) = mailbox.Reply(body);
                if (error is not null)
                {
                    return Refuse(status, status == 409 ? ControllerProtocol.ErrorTypes.Conflict : ControllerProtocol.ErrorTypes.BadRequest, error);
                }

                return (204, []);
        }
    }

    /// <summary>Whose API this is, for messages.</summary>
    private string Owner => _run is null ? "this driver's shared replicas" : $"run {_run.RunName}";

    private async Task<(int Status, byte[] Body)> CallAsync(Registration registration, byte[] body)
    {
        // Only a registered parent gets here, and only a run's server registers parents.
        var run = _run ?? throw new InvalidOperationException("a replica hub has no parent actions");
        var parent = registration.Scope;
        string? taskName = null;
        TaskDefinition? task = null;
        object?[] inputs;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(parent.CancellationToken, registration.Ended, _stopping.Token);
        try
        {
            var request = ParseRequest(body);
            taskName = request.Task;
            task = _catalog.Find(request.Task, request.Environment);
            var parameters = task.Parameters ?? await run.EnsureParametersAsync(task).WaitAsync(linked.Token).ConfigureAwait(false);
            inputs = Bind(task, parameters, request.Inputs);
        }
        catch (ControllerHttpException ex)
        {
            run.Log(parent.ActionId, "flytesharp", $"controller API: refused a child call{(taskName is null ? "" : $" of '{taskName}'")} ({ex.Status}): {ex.Message}");
            return Refuse(ex.Status, ex.Type, run.Settings.Secrets.Redact(ex.Message));
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested || run.RunCancellation.IsCancellationRequested)
        {
            return NoLongerRunning(parent, registration);
        }
        catch (Exception ex)
        {
            // Learning a Python task's parameters failed: the same error the in-process call would raise.
            return (422, ErrorBody(ChildErrors.FromException(task!, ex, run.Settings.Secrets.Redact)));
        }

        try
        {
            var value = await run.CallChildAsync(parent, task, inputs).WaitAsync(linked.Token).ConfigureAwait(false);
            return (200, OutputBody(task, value));
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested || run.RunCancellation.IsCancellationRequested)
        {
            // The run's own token is checked too: a cancelled child may get here before the cancellation has reached the linked token.
            return NoLongerRunning(parent, registration);
        }
        catch (Exception ex)
        {
            return (422, ErrorBody(ChildErrors.FromException(task, ex, run.Settings.Secrets.Redact)));
        }
    }

    private (int, byte[]) NoLongerRunning(ActionScope parent, Registration registration)
    {
        var run = _run!;
        var why = run.RunCancellation.IsCancellationRequested ? "the run was cancelled"
            : _stopping.IsCancellationRequested ? "the run ended"
            : registration.Ended.IsCancellationRequested ? "its container ended"
            : "it timed out";
        return Refuse(409, ControllerProtocol.ErrorTypes.Conflict, $"parent action {parent.ActionId} is no longer running ({why})");
    }

    private static ChildCallRequest ParseRequest(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new ControllerHttpException(400, ControllerProtocol.ErrorTypes.BadRequest, $"the body is not JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ControllerHttpException(400, ControllerProtocol.ErrorTypes.BadRequest, "the body must be a JSON object {\"task\": …, \"inputs\": {…}}");
            }

            string? task = null;
            string? environment = null;
            JsonElement? inputs = null;
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "task" when property.Value.ValueKind == JsonValueKind.String && property.Value.GetString() is { Length: > 0 } t:
                        task = t;
                        break;
                    case "environment" when property.Value.ValueKind == JsonValueKind.String:
                        environment = property.Value.GetString();
                        break;
                    case "inputs" when property.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array:
                        inputs = property.Value.Clone();
                        break;
                    case "task" or "environment" or "inputs":
                        throw new ControllerHttpException(400, ControllerProtocol.ErrorTypes.BadRequest,
                            $"\"{property.Name}\" must be {(property.Name == "inputs" ? "an object of inputs by name (or an array by position)" : "a non-empty string")}, not {property.Value.ValueKind.ToString().ToLowerInvariant()}");
                    default:
                        throw new ControllerHttpException(400, ControllerProtocol.ErrorTypes.BadRequest,
                            $"unknown property \"{Printable(property.Name)}\": the body has \"task\", \"inputs\" and optionally \"environment\"");
                }
            }

            return task is null
                ? throw new ControllerHttpException(400, ControllerProtocol.ErrorTypes.BadRequest, "the body names no \"task\"")
                : new ChildCallRequest(task, environment, inputs ?? JsonDocument.Parse("{}").RootElement.Clone());
        }
    }

    private static object?[] Bind(TaskDefinition task, IReadOnlyList<TaskParameter> parameters, JsonElement inputs)
    {
        var expected = parameters.Count == 0 ? "none" : string.Join(", ", parameters.Select(p => $"{p.Name} ({TypeNames.Describe(p.Type)})"));
        var values = new object?[parameters.Count];
        if (inputs.ValueKind == JsonValueKind.Array)
        {
            if (inputs.GetArrayLength() != parameters.Count)
            {
                throw new ControllerHttpException(400, ControllerProtocol.ErrorTypes.BadRequest,
                    $"task '{task.Name}' takes {parameters.Count} input(s) but {inputs.GetArrayLength()} were given; its inputs are: {expected}");
            }

            var i = 0;
            foreach (var element in inputs.EnumerateArray())
            {
                values[i] = ToValue(task, parameters[i], element);
                i++;
            }

            return values;
        }

        foreach (var property in inputs.EnumerateObject())
        {
            if (!parameters.Any(p => p.Name == property.Name))
            {
                throw new ControllerHttpException(400, ControllerProtocol.ErrorTypes.BadRequest,
                    $"task '{task.Name}' has no input named '{Printable(property.Name)}'; its inputs are: {expected}");
            }
        }

        for (var i = 0; i < parameters.Count; i++)
        {
            if (!inputs.TryGetProperty(parameters[i].Name, out var element))
            {
                throw new ControllerHttpException(400, ControllerProtocol.ErrorTypes.BadRequest,
                    $"input '{parameters[i].Name}' ({TypeNames.Describe(parameters[i].Type)}) of task '{task.Name}' is missing; its inputs are: {expected}");
            }

            values[i] = ToValue(task, parameters[i], element);
        }

        return values;
    }

    private static object? ToValue(TaskDefinition task, TaskParameter parameter, JsonElement element)
    {
        try
        {
            var value = element.Deserialize(parameter.Type, TaskJson.Options);
            if (value is null && parameter.Type.IsValueType && Nullable.GetUnderlyingType(parameter.Type) is null)
            {
                throw new JsonException("null is not allowed");
            }

            return value;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or NotSupportedException)
        {
            var raw = element.GetRawText();
            throw new ControllerHttpException(400, ControllerProtocol.ErrorTypes.BadRequest,
                $"input '{parameter.Name}' of task '{task.Name}' must be a {TypeNames.Describe(parameter.Type)}, but {Printable(raw)} is not: {ex.Message}");
        }
    }

    private static byte[] OutputBody(TaskDefinition task, object? value)
    {
        var output = JsonSerializer.SerializeToUtf8Bytes(value, task.OutputType, TaskJson.Options);
        var body = new byte[output.Length + 11];
        "{\"output\":"u8.CopyTo(body);
        output.CopyTo(body, 10);
        body[^1] = (byte)'}';
        return body;
    }

    private static (int, byte[]) Refuse(int status, string type, string message) => (status, ErrorBody(new ControllerError(type, message)));

    private static byte[] ErrorBody(ControllerError error) => JsonSerializer.SerializeToUtf8Bytes(new ControllerReply(null, error), ControllerProtocol.Json);

    private static IPEndPoint ParseListen(string listen)
    {
        if (IPEndPoint.TryParse(listen, out var endpoint) && listen.Contains(':', StringComparison.Ordinal))
        {
            return endpoint;
        }

        var colon = listen.LastIndexOf(':');
        if (colon > 0 && listen[..colon] == "localhost" && int.TryParse(listen[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535)
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        throw new FlyteSharpException($"controller listen address '{listen}' is not ip:port",
            fix: "set [kubernetes] controller_listen in flytesharp.toml to e.g. \"0.0.0.0:7443\" (port 0 picks a free port)");
    }

    private static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static string Printable(string text)
    {
        var cut = text.Length <= 80 ? text : text[..77] + "...";
        return new string(cut.Select(c => c < ' ' || c >= 0x7f ? '?' : c).ToArray());
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The sandbox goes when the run ends.
        }
    }

    private static void TryDeleteDirectory(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover empty directory in /tmp: harmless.
        }
    }

    /// <summary>A parent made valid for child calls while its container runs.</summary>
    private sealed class Registration(ControllerServer server, ActionScope scope) : IDisposable
    {
        private readonly CancellationTokenSource _ended = new();

        public ActionScope Scope { get; } = scope;

        public CancellationToken Ended => _ended.Token;

        public void Dispose()
        {
            if (server._parents.TryRemove(new KeyValuePair<string, Registration>(Scope.ActionId, this)))
            {
                server._finished[Scope.ActionId] = 0;
                _ended.Cancel();
            }
        }
    }
}
