using FlyteSharp.Execution;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution;

public class TaskInputsTests
{
    private static readonly FlyteTask<int, List<double>, string> Task =
        new TaskEnvironment("etl", Image.FromDebianBase()).Task("t", (int n, List<double> values) => System.Threading.Tasks.Task.FromResult($"{n}:{values.Count}"));

    private static object?[] Bind(params (string Name, string Value)[] inputs) =>
        TaskInputs.Bind(Task, Task.Parameters!, inputs.ToDictionary(i => i.Name, i => i.Value));

    [Fact]
    public void Bind_JsonValues_ConvertsToParameterTypes()
    {
        var values = Bind(("n", "3"), ("values", "[1.5, 2]"));

        Assert.Equal(3, values[0]);
        Assert.Equal([1.5, 2.0], (List<double>)values[1]!);
    }

    [Fact]
    public void Bind_MissingInput_NamesParameterAndType()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Bind(("n", "3")));

        Assert.Contains("input 'values' (List<double>) of task 't' is missing", ex.Message);
    }

    [Fact]
    public void Bind_ExtraInput_ListsTheInputs()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Bind(("n", "3"), ("values", "[]"), ("m", "1")));

        Assert.Contains("no input named 'm'", ex.Message);
        Assert.Contains("n (int), values (List<double>)", ex.Fix);
    }

    [Fact]
    public void Bind_WrongType_NamesParameterAndExpectedType()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Bind(("n", "ten"), ("values", "[]")));

        Assert.Contains("input 'n' of task 't' must be a int, but 'ten' is not", ex.Message);
    }
}
