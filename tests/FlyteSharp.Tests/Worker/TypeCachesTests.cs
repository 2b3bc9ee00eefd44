using FlyteSharp.Worker;

namespace FlyteSharp.Tests.Worker;

// With the reload tests, apart from the rest: emptying the serializer's caches under other tests' feet only costs them time.
[Collection(WorkerReloadUnloadCollection.Name)]
public class TypeCachesTests
{
    [Fact]
    public void Clear_ThisRuntime_FindsAndCallsSystemTextJsonsHook()
    {
        // Without the hook every reload of a replica would keep the old code in memory (WorkerReloadUnloadTests); this
        // says so directly should a runtime update rename or drop it.
        Assert.True(TypeCaches.Clear());
    }
}
