using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using FlyteSharp.Execution.Python;
using FlyteSharp.Registry;
using FlyteSharp.Runner;

namespace FlyteSharp.Tests.Registry;

public partial class RegistryRetryTests
{
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly DateTimeOffset Now = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RunnerDefaults_AreTheRegistryClientsPolicy()
    {
        // A runner started by hand (no --fetch-attempts) must behave like one FlyteSharp starts.
        var script = System.Text.Encoding.UTF8.GetString(PythonRunnerScript.Bytes);
        Assert.Equal(RegistryRetry.MaxAttempts, int.Parse(Constant(script, "FETCH_ATTEMPTS"), CultureInfo.InvariantCulture));
        Assert.Equal(RegistryRetry.InitialBackoff.TotalSeconds, double.Parse(Constant(script, "FETCH_BACKOFF_SECONDS"), CultureInfo.InvariantCulture));
        Assert.Equal(RegistryRetry.MaxRetryAfter.TotalSeconds, double.Parse(Constant(script, "FETCH_MAX_RETRY_AFTER_SECONDS"), CultureInfo.InvariantCulture));
    }

    [Fact]
    public void RetryAfter_Seconds_IsTheDelta()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7));
        Assert.Equal(TimeSpan.FromSeconds(7), RegistryRetry.RetryAfter(response, new FixedClock(Now)));
    }

    [Fact]
    public void RetryAfter_HttpDate_IsMeasuredFromTheClock()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        response.Headers.RetryAfter = new RetryConditionHeaderValue(Now.AddSeconds(30));
        Assert.Equal(TimeSpan.FromSeconds(30), RegistryRetry.RetryAfter(response, new FixedClock(Now)));
        Assert.Equal(TimeSpan.Zero, RegistryRetry.RetryAfter(response, new FixedClock(Now.AddMinutes(5))));
    }

    [Fact]
    public void RetryAfter_Missing_IsNull()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        Assert.Null(RegistryRetry.RetryAfter(response, new FixedClock(Now)));
    }

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, true)]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.InternalServerError, true)]
    [InlineData(HttpStatusCode.NotFound, false)]
    [InlineData(HttpStatusCode.Unauthorized, false)]
    public void IsRetryable_5xxAnd429Only(HttpStatusCode status, bool retryable)
    {
        using var response = new HttpResponseMessage(status);
        Assert.Equal(retryable, RegistryRetry.IsRetryable(response));
    }

    private static string Constant(string script, string name) =>
        ConstantLine().Matches(script).Single(m => m.Groups[1].Value == name).Groups[2].Value;

    [GeneratedRegex(@"^([A-Z_]+) = ([0-9.]+)$", RegexOptions.Multiline)]
    private static partial Regex ConstantLine();
}
