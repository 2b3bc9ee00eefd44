namespace FlyteSharp.Tests.Execution.Python;

/// <summary>What the runner's extraction did: refused (with its <c>BundleError</c> message) or unpacked.</summary>
internal sealed record RunnerExtractionResult(bool Refused, string Message);
