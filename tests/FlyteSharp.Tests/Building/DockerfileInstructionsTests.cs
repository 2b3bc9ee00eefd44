using FlyteSharp.Building;

namespace FlyteSharp.Tests.Building;

public class DockerfileInstructionsTests
{
    private const string MultiStage = """
        # syntax=docker/dockerfile:1
        FROM base AS a
        RUN echo one

        # a comment
        RUN echo two && \
            exit 3
        FROM a
        COPY missing.txt /x
        """;

    [Fact]
    public void Parse_ContinuationsAndComments_KeepsStartLinesAndStages()
    {
        var instructions = DockerfileInstructions.Parse(MultiStage);

        Assert.Equal([2, 3, 6, 8, 9], instructions.Select(i => i.Line));
        Assert.Equal([1, 1, 1, 2, 2], instructions.Select(i => i.Stage));
        Assert.Equal("RUN echo two && exit 3", instructions[2].Text);
        Assert.Equal(2, instructions[4].StepInStage);
    }

    [Fact]
    public void FindFailing_PodmanStepMarkers_ReturnsLastStartedStep()
    {
        // Output exactly as podman 4.3 prints it for a failing RUN in the first stage.
        const string output = """
            [1/2] STEP 1/3: FROM base AS a
            [1/2] STEP 2/3: RUN echo one
            one
            --> dc9802cebbf
            [1/2] STEP 3/3: RUN echo two &&     exit 3
            two
            Error: building at STEP "RUN echo two &&     exit 3": while running runtime: exit status 3
            """;

        var failing = DockerfileInstructions.FindFailing(MultiStage, output);

        Assert.NotNull(failing);
        Assert.Equal(6, failing.Line);
    }

    [Fact]
    public void FindFailing_PodmanSecondStage_CountsStepsPerStage()
    {
        const string output = """
            [2/2] STEP 1/2: FROM dc9802cebbfd
            [2/2] STEP 2/2: COPY missing.txt /x
            Error: building at STEP "COPY missing.txt /x": checking on sources: no such file or directory
            """;

        Assert.Equal(9, DockerfileInstructions.FindFailing(MultiStage, output)?.Line);
    }

    [Fact]
    public void FindFailing_BuildxDockerfileLine_UsesThatLine()
    {
        const string output = """
            #6 [2/3] RUN echo two && exit 3
            #6 ERROR: process "/bin/sh -c echo two && exit 3" did not complete successfully: exit code: 3
            Dockerfile:6
            --------------------
               6 | >>> RUN echo two && \
            --------------------
            ERROR: failed to solve: process "/bin/sh -c echo two && exit 3" did not complete successfully: exit code: 3
            """;

        Assert.Equal(6, DockerfileInstructions.FindFailing(MultiStage, output)?.Line);
    }

    [Fact]
    public void FindFailing_NoMarkers_ReturnsNull() =>
        Assert.Null(DockerfileInstructions.FindFailing(MultiStage, "Error: short-name resolution failed"));
}
