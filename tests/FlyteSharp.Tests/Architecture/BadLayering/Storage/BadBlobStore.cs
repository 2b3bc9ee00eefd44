using FlyteSharp.Tests.Architecture.BadLayering.Execution;

namespace FlyteSharp.Tests.Architecture.BadLayering.Storage;

// A deliberately bad type set for LayeringTests: a low layer (Storage) that reaches up into Execution.
internal sealed class BadBlobStore
{
    public int Put() => new BadExecutor().Run();
}
