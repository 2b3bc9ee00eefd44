using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.Retry;

namespace FlyteSharp.Controller;

/// <summary>
/// The worker's side of the controller API: a real <see cref="HttpClient"/> that reaches the driver over a Unix socket
/// (<see cref="SocketsHttpHandler.ConnectCallback"/> to a <see cref="UnixDomainSocketEndPoint"/>) or over TCP, sends
/// the run's bearer token, and turns every reply into a value or a clear exception. Calls have no overall timeout (a
/// child may run for hours; the caller's token cancels); connecting does.
/// </summary>
internal sealed class ControllerClient : IDisposable
{
    /// <summary>How long connecting to the driver may take before the call fails.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Child calls one client has open at once (one connection each, held while the child runs); more wait in the client.
    /// Below the driver's connection limit and listen backlog, so a <c>Task.WhenAll</c> fan-out of any width is queued
    /// like an in-process one instead of being turned away.
    /// </summary>
    internal const int MaxConnections = 128;

    /// <summary>
    /// A driver that is busy (503: other parents hold its connections) or whose listen queue is full (EAGAIN on the Unix
    /// socket) is asked again, for up to about ten minutes: both pass as calls end.
    /// </summary>
    private static readonly ResiliencePipeline<HttpResponseMessage> BusyRetry = new ResiliencePipelineBuilder<HttpResponseMessage>()
        .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                .HandleResult(r => r.StatusCode == HttpStatusCode.ServiceUnavailable)
                .Handle<HttpRequestException>(ex => ex.InnerException is SocketException { SocketErrorCode: SocketError.TryAgain }),
            MaxRetryAttempts = 600,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(20),
            MaxDelay = TimeSpan.FromSeconds(1),
        })
        .Build();

    private readonly HttpClient _http;
    private readonly string _token;
    private readonly Func<ControllerError, Exception> _childErrors;
    private readonly TimeSpan _connectTimeout;

    /// <summary>Creates a client.</summary>
    /// <param name="address">The driver's controller address.</param>
    /// <param name="token">The run's token (from the token file; never logged).</param>
    /// <param name="childErrors">Turns a failed child's error into the exception the call throws (default <see cref="ControllerErrors.Rehydrate"/>).</param>
    /// <param name="connectTimeout">How long connecting may take (default <see cref="DefaultConnectTimeout"/>).</param>
    public ControllerClient(ControllerAddress address, string token, Func<ControllerError, Exception>? childErrors = null, TimeSpan? connectTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentException.ThrowIfNullOrEmpty(token);
        Address = address;
        _token = token;
        _childErrors = childErrors ?? ControllerErrors.Rehydrate;
        _connectTimeout = connectTimeout ?? DefaultConnectTimeout;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _connectTimeout,
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            MaxConnectionsPerServer = MaxConnections,
        };
        if (address.SocketPath is { } path)
        {
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        _http = new HttpClient(handler) { BaseAddress = address.BaseUri, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The driver's address.</summary>
    public ControllerAddress Address { get; }

    /// <summary>A client whose token is read from <paramref name="tokenFile"/> (the driver writes it 0400; it is never on a command line).</summary>
    /// <exception cref="FlyteSharpException">The file cannot be read or is empty.</exception>
    public static ControllerClient FromTokenFile(ControllerAddress address, string tokenFile, Func<ControllerError, Exception>? childErrors = null, TimeSpan? connectTimeout = null)
    {
        string token;
        try
        {
            token = File.ReadAllText(tokenFile).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"cannot read the controller token file: {ex.Message}", tokenFile,
                fix: $"the driver writes it for each run and mounts it at {ControllerProtocol.ContainerTokenPath}; check --controller-token-file and the mount");
        }

        if (token.Length == 0)
        {
            throw new FlyteSharpException("the controller token file is empty", tokenFile, fix: "point --controller-token-file at the file the driver wrote for this run");
        }

        return new ControllerClient(address, token, childErrors, connectTimeout);
    }

    /// <summary>Asks the driver to run <paramref name="task"/> as a child action of <paramref name="parentActionId"/> and returns its output as JSON.</summary>
    /// <param name="parentActionId">The running action whose child this is.</param>
    /// <param name="task">The child's task name.</param>
    /// <param name="inputsJson">A JSON object of inputs by parameter name, or a JSON array of inputs by position.</param>
    /// <param name="cancellationToken">Cancels the call (the driver then stops waiting for the reply's reader).</param>
    /// <param name="environment">The child's environment name, to tell apart tasks of one name in two environments.</param>
    /// <exception cref="FlyteSharpException">The driver cannot be reached, or refused the call (named with the reason).</exception>
    /// <returns>The child's output as JSON text.</returns>
    public async Task<string> CallChildAsync(string parentActionId, string task, string inputsJson, CancellationToken cancellationToken, string? environment = null)
    {
        var requestBody = RequestBody(task, inputsJson, environment);
        HttpResponseMessage response;
        try
        {
            response = await BusyRetry.ExecuteAsync(async ct =>
            {
                // A request message is sent once: every attempt gets its own.
                using var request = new HttpRequestMessage(HttpMethod.Post, ControllerProtocol.ChildrenPath(parentActionId))
                {
                    Content = new ByteArrayContent(requestBody),
                };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _token);
                return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(task, ex.InnerException?.Message ?? ex.Message, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(task, $"no connection within {_connectTimeout.TotalSeconds:0.#} s", ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            ControllerReply? reply;
            try
            {
                reply = JsonSerializer.Deserialize<ControllerReply>(body, ControllerProtocol.Json);
            }
            catch (JsonException)
            {
                reply = null;
            }

            if (response.StatusCode == HttpStatusCode.OK && reply?.Output is { } output)
            {
                return output.GetRawText();
            }

            if (reply?.Error is not { } error)
            {
                throw new FlyteSharpException(
                    $"the controller at {Address} replied {(int)response.StatusCode} to the call of task '{task}' with a body that is not a controller reply: {Abbreviate(body)}",
                    fix: "check that --controller points at the FlyteSharp driver of this run");
            }

            if (response.StatusCode == HttpStatusCode.UnprocessableEntity)
            {
                throw _childErrors(error);
            }

            throw new FlyteSharpException(
                $"the controller at {Address} refused the call of task '{task}' from action {parentActionId} ({(int)response.StatusCode} {error.Type}): {error.Message}",
                fix: response.StatusCode switch
                {
                    HttpStatusCode.Unauthorized => "the token file does not hold this run's token: pass the file the driver wrote for this run (--controller-token-file)",
                    HttpStatusCode.Conflict => "the parent action has finished or the run was cancelled; nothing can be called from it any more",
                    HttpStatusCode.NotFound => "call tasks the driver's program defines (as static fields or properties), from the action the driver started",
                    _ => "fix the request as the message says",
                });
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    private FlyteSharpException Unreachable(string task, string reason, Exception inner) => new(
        $"cannot reach the FlyteSharp controller at {Address} to call task '{task}': {reason}",
        fix: Address.SocketPath is { } path
            ? $"the driver serves {path} while the run runs and mounts it into the task's container; check that the run is still running (flytesharp runs), that the socket is mounted at {path}, and that this process may open it (mode 0600, the driver's user or root)"
            : $"check that the driver is reachable from here at {Address} ([kubernetes] controller_url in flytesharp.toml) and that the run is still running",
        inner: inner);

    private static byte[] RequestBody(string task, string inputsJson, string? environment)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("task", task);
            if (environment is not null)
            {
                writer.WriteString("environment", environment);
            }

            writer.WritePropertyName("inputs");
            writer.WriteRawValue(inputsJson);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string Abbreviate(string text) => text.Length <= 200 ? text : text[..197] + "...";
}
