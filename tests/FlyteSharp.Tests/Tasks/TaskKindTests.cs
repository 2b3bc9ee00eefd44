using System.Text.Json;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Tasks;

public class TaskKindTests
{
    [Theory]
    [InlineData(TaskKind.CSharp, "\"csharp\"")]
    [InlineData(TaskKind.Python, "\"python\"")]
    public void Serialize_AnyOptions_WritesTheStoredName(TaskKind kind, string json)
    {
        // The console's /api (camelCase enums) and deployment records (web defaults, no enum converter) both write the stored names.
        Assert.Equal(json, JsonConvention.Serialize(kind));
        Assert.Equal(json, JsonSerializer.Serialize(kind, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        Assert.Equal(kind, JsonSerializer.Deserialize<TaskKind>(json, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    }

    [Fact]
    public void Parse_UnknownStoredName_SaysWhatIsExpected()
    {
        var ex = Assert.Throws<InvalidDataException>(() => TaskKinds.Parse("CSharp"));

        Assert.Contains("csharp or python", ex.Message, StringComparison.Ordinal);
    }
}
