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
}
