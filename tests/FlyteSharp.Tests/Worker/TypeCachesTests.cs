using FlyteSharp.Worker;

namespace FlyteSharp.Tests.Worker;

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
