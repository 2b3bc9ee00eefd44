using System.Net;
using System.Net.Sockets;
using Polly;
using Polly.Retry;

namespace FlyteSharp.Registry;

/// <summary>
/// The one retry policy of every registry call (blobs, manifests, tag probes, token requests) — and, through the
/// constants handed to <c>flytesharp_runner.py</c>, of the runner's bundle download: 5xx, 429 and connection errors are
/// retried with exponential backoff (no jitter: attempts are few and callers few), a <c>Retry-After</c> the registry
/// sends replaces the backoff, and one longer than <see cref="MaxRetryAfter"/> ends the retries at once.
/// </summary>
internal static class RegistryRetry
{
    /// <summary>Attempts per request, the first one included.</summary>
    public const int MaxAttempts = 5;

    /// <summary>Delay before the first retry; doubled for each further one (200 ms, 400 ms, 800 ms, 1.6 s).</summary>
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest <c>Retry-After</c> waited for; a registry asking for more gets an error instead of a stalled run.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    /// <summary>The pipeline for responses of one client: <paramref name="maxAttempts"/> attempts from <paramref name="initialBackoff"/>.</summary>
    public static ResiliencePipeline<HttpResponseMessage> Create(int maxAttempts, TimeSpan initialBackoff, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (maxAttempts == 1)
        {
            return builder.Build();
        }

        return builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = maxAttempts - 1,
            Delay = initialBackoff,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = false,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome switch
            {
                { Exception: HttpRequestException ex } => IsTransient(ex),
                { Result: { } response } => IsRetryable(response) && !(RetryAfter(response, time) > MaxRetryAfter),
                _ => false,
            }),
            DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response, time) : null),
            OnRetry = args =>
            {
                // The retried response is never read: free its connection now.
                args.Outcome.Result?.Dispose();
                return default;
            },
        }).Build();
    }

    /// <summary>5xx and 429: the registry (or a proxy in front of it) may answer differently in a moment.</summary>
    public static bool IsRetryable(HttpResponseMessage response) =>
        (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests;

    /// <summary>A refused, reset or dropped connection; not a TLS or protocol error that a retry cannot fix.</summary>
    public static bool IsTransient(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.ResponseEnded or HttpRequestError.Unknown ||
        ex.InnerException is SocketException or IOException;

    /// <summary>The wait a <c>Retry-After</c> header asks for (seconds or an HTTP date), or null without one.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }
}
