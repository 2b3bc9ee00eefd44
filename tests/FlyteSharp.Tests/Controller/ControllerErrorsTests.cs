using FlyteSharp.Controller;
using FlyteSharp.Execution;
using FlyteSharp.Execution.Controller;

namespace FlyteSharp.Tests.Controller;

public class ControllerErrorsTests
{
    [Fact]
    public void Rehydrate_LoadedExceptionTypeWithAMessageConstructor_IsThatType()
    {
        var error = ControllerErrors.Rehydrate(new ControllerError("System.IO.InvalidDataException", "bad bytes", "   at Child.Body()", "csharp", "parse"));

        Assert.IsType<InvalidDataException>(error);
        Assert.Equal("bad bytes", error.Message);
        Assert.Contains("at Child.Body()", error.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public void Rehydrate_FlyteSharpException_KeepsTheWholeMessage()
    {
        var error = ControllerErrors.Rehydrate(new ControllerError(typeof(FlyteSharpException).FullName!, "x.toml:3: bad\n  fix: do y", null, "csharp", "t"));

        Assert.IsType<FlyteSharpException>(error);
        Assert.Equal("x.toml:3: bad\n  fix: do y", error.Message);
    }

    [Fact]
    public void Rehydrate_TypeThisProcessDoesNotHave_NamesItInTheMessage()
    {
        var error = ControllerErrors.Rehydrate(new ControllerError("Contoso.Billing.LedgerLockedException", "ledger 4 is locked", null, "csharp", "bill"));

        var failed = Assert.IsType<ChildTaskFailedException>(error);
        Assert.Equal("Contoso.Billing.LedgerLockedException: ledger 4 is locked", failed.Message);
    }

    [Fact]
    public void Rehydrate_NotAnExceptionType_IsNotInstantiated()
    {
        var error = ControllerErrors.Rehydrate(new ControllerError("System.Text.StringBuilder", "x", null, "csharp", "t"));

        Assert.IsType<ChildTaskFailedException>(error);
    }

    [Fact]
    public void ChildErrors_PythonFailure_RoundTripsToPythonTaskException()
    {
        var original = new PythonTaskException("app.etl:load", "KeyError", "'n'", "Traceback ...\nKeyError: 'n'");

        var wire = ChildErrors.FromException(null!, original, s => s);
        var error = ChildErrors.ToException(wire);

        var python = Assert.IsType<PythonTaskException>(error);
        Assert.Equal(original.Message, python.Message);
        Assert.Equal(original.PythonTraceback, python.PythonTraceback);
        Assert.Equal("app.etl:load", python.Task);
    }

    [Fact]
    public void ChildErrors_FromException_MasksSecrets()
    {
        var wire = ChildErrors.FromException(null!, new PythonTaskException("m:f", "ValueError", "token s3cr3t leaked", "s3cr3t"), s => s.Replace("s3cr3t", "***", StringComparison.Ordinal));

        Assert.Equal("token *** leaked", wire.Message);
        Assert.Equal("***", wire.Traceback);
    }

    [Fact]
    public void ChildErrors_CSharpChildFailedInItsContainer_RoundTripsToTheRemoteExceptionTypeAndMessage()
    {
        // A C# child that ran in its own container fails with DotnetTaskException in the driver; the parent's worker must get
        // the child's own exception (type, message, stack trace), not the driver's wrapper.
        var task = new FlyteSharp.Tasks.TaskEnvironment("e", FlyteSharp.Images.Image.FromDotnetBase("10.0")).Task("parse", (int n) => Task.FromResult(n));
        var failed = new FlyteSharp.Execution.Dotnet.DotnetTaskException("parse", "System.IO.InvalidDataException", "bad bytes s3cr3t",
            "System.IO.InvalidDataException: bad bytes s3cr3t\n   at Child.Parse()");

        var wire = ChildErrors.FromException(task, failed, s => s.Replace("s3cr3t", "***", StringComparison.Ordinal));
        var error = ChildErrors.ToException(wire);

        Assert.Equal(("System.IO.InvalidDataException", "bad bytes ***", "csharp", "parse"), (wire.Type, wire.Message, wire.Kind, wire.Task));
        Assert.IsType<InvalidDataException>(error);
        Assert.Equal("bad bytes ***", error.Message);
        Assert.Contains("at Child.Parse()", error.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public void RemoteTaskException_PythonAndCSharpFailures_AreCaughtByOneCatch()
    {
        RemoteTaskException[] failures =
        [
            new PythonTaskException("m:f", "ValueError", "bad", "Traceback ...\nValueError: bad"),
            new FlyteSharp.Execution.Dotnet.DotnetTaskException("t", "System.InvalidOperationException", "bad", "System.InvalidOperationException: bad"),
        ];

        Assert.Equal([("ValueError", "bad"), ("System.InvalidOperationException", "bad")], failures.Select(f => (f.RemoteType, f.RemoteMessage)));
        Assert.Equal(["m:f", "t"], failures.Select(f => f.Task));
    }
}
