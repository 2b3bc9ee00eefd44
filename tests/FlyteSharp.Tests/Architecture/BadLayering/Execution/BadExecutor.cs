using FlyteSharp.Tests.Architecture.BadLayering.Storage;

namespace FlyteSharp.Tests.Architecture.BadLayering.Execution;

// A deliberately bad type set for LayeringTests: Execution using Storage is allowed; Storage using it back makes a loop.
internal sealed class BadExecutor
{
    public int Run() => 1;

    public BadBlobStore Store() => new();
}
