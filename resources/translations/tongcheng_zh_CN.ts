<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
    <context>
        <name>ApplyPackagesDialog</name>
        <message>
            <source>Apply change packages to a master</source>
            <translation>将变更包应用到主库</translation>
        </message>
        <message>
            <source>1. Master</source>
            <translation>1. 主库</translation>
        </message>
        <message>
            <source>A master file (GeoPackage)</source>
            <translation>主库文件（GeoPackage）</translation>
        </message>
        <message>
            <source>A server (PostGIS)</source>
            <translation>服务器（PostGIS）</translation>
        </message>
        <message>
            <source>master.gpkg</source>
            <translation>master.gpkg</translation>
        </message>
        <message>
            <source>&amp;Browse…</source>
            <translation>浏览(&amp;B)…</translation>
        </message>
        <message>
            <source>2. Change packages</source>
            <translation>2. 变更包</translation>
        </message>
        <message>
            <source>&amp;Add…</source>
            <translation>添加(&amp;A)…</translation>
        </message>
        <message>
            <source>&amp;Remove</source>
            <translation>移除(&amp;R)</translation>
        </message>
        <message>
            <source>Each workspace's packages are applied in the order it sent them.</source>
            <translation>同一工作空间的变更包按其发送顺序应用。</translation>
        </message>
        <message>
            <source>&amp;Check (dry run)</source>
            <translation>检查（试运行）(&amp;C)</translation>
        </message>
        <message>
            <source>3. What the apply would do</source>
            <translation>3. 应用后的结果</translation>
        </message>
        <message>
            <source>Package</source>
            <translation>变更包</translation>
        </message>
        <message>
            <source>Layer</source>
            <translation>图层</translation>
        </message>
        <message>
            <source>Inserts</source>
            <translation>新增</translation>
        </message>
        <message>
            <source>Updates</source>
            <translation>修改</translation>
        </message>
        <message>
            <source>Deletes</source>
            <translation>删除</translation>
        </message>
        <message>
            <source>Conflicts</source>
            <translation>冲突</translation>
        </message>
        <message>
            <source>Refused</source>
            <translation>拒绝</translation>
        </message>
        <message>
            <source>Conflicts default to:</source>
            <translation>冲突默认：</translation>
        </message>
        <message>
            <source>&amp;Apply</source>
            <translation>应用(&amp;A)</translation>
        </message>
        <message>
            <source>Master file</source>
            <translation>主库文件</translation>
        </message>
        <message>
            <source>Master GeoPackages (*.gpkg);;All files (*)</source>
            <translation>主库 GeoPackage (*.gpkg);;所有文件 (*)</translation>
        </message>
        <message>
            <source>Change packages</source>
            <translation>变更包</translation>
        </message>
        <message>
            <source>Change packages (*.gpkg);;All files (*)</source>
            <translation>变更包 (*.gpkg);;所有文件 (*)</translation>
        </message>
        <message>
            <source>Give the server's host and database.</source>
            <translation>请填写服务器的主机和数据库。</translation>
        </message>
        <message>
            <source>Choose the master file.</source>
            <translation>请选择主库文件。</translation>
        </message>
        <message>
            <source>Choose the master and the change packages, then Check.</source>
            <translation>请选择主库和变更包，然后点击检查。</translation>
        </message>
        <message>
            <source>Add the change packages to apply.</source>
            <translation>请添加要应用的变更包。</translation>
        </message>
        <message>
            <source>Check the change packages</source>
            <translation>检查变更包</translation>
        </message>
        <message numerus="yes">
            <source>Checking %n change package(s)…</source>
            <translation>
                <numerusform>正在检查 %n 个变更包…</numerusform>
            </translation>
        </message>
        <message>
            <source>Cancelled: nothing was checked.</source>
            <translation>已取消：未做检查。</translation>
        </message>
        <message>
            <source>(already applied: nothing to do)</source>
            <translation>（已应用过：无需操作）</translation>
        </message>
        <message>
            <source>(no changes)</source>
            <translation>（无变更）</translation>
        </message>
        <message numerus="yes">
            <source>Master %s: version %d now, %d after the apply of %n package(s). Nothing has been written yet.</source>
            <translation>
                <numerusform>主库 %s：当前版本 %d，应用 %n 个变更包后为 %d。尚未写入任何内容。</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n conflict(s): the same field was changed in the field and at the office. Choose per field which value to keep; the other is kept in the package's report.</source>
            <translation>
                <numerusform>%n 处冲突：外业和办公室修改了同一字段。请逐个字段选择保留哪个值；另一个值保存在该变更包的报告中。</numerusform>
            </translation>
        </message>
        <message>
            <source>No conflicts: the packages merge cleanly with the master.</source>
            <translation>无冲突：变更包可与主库顺利合并。</translation>
        </message>
        <message>
            <source>Every package was applied to this master before: nothing to do.</source>
            <translation>所有变更包此前都已应用到该主库：无需操作。</translation>
        </message>
        <message>
            <source>Checked: review the conflicts, then Apply.</source>
            <translation>检查完毕：请审阅冲突，然后点击应用。</translation>
        </message>
        <message>
            <source>Checked: nothing has been written yet. Apply writes it all in one go.</source>
            <translation>检查完毕：尚未写入任何内容。点击应用将一次性全部写入。</translation>
        </message>
        <message>
            <source>Check the packages first.</source>
            <translation>请先检查变更包。</translation>
        </message>
        <message>
            <source>Apply the change packages</source>
            <translation>应用变更包</translation>
        </message>
        <message numerus="yes">
            <source>Applying %n change package(s)…</source>
            <translation>
                <numerusform>正在应用 %n 个变更包…</numerusform>
            </translation>
        </message>
        <message>
            <source>Cancelled: nothing was written to the master.</source>
            <translation>已取消：未向主库写入任何内容。</translation>
        </message>
        <message>
            <source>Nothing was written: check again.</source>
            <translation>未写入任何内容：请重新检查。</translation>
        </message>
    </context>
    <context>
        <name>AttributeTableModel</name>
        <message>
            <source>FID</source>
            <extracomment>The invisible root: the parent of every row (a table has no tree).</extracomment>
            <translation>编号</translation>
        </message>
        <message>
            <source>Feature number (negative until saved)</source>
            <translation>要素编号（保存前为负数）</translation>
        </message>
    </context>
    <context>
        <name>AttributeTablePanel</name>
        <message>
            <source>All features</source>
            <translation>全部要素</translation>
        </message>
        <message>
            <source>Visible on the map</source>
            <translation>地图可见范围内</translation>
        </message>
        <message>
            <source>Selected features</source>
            <translation>已选要素</translation>
        </message>
        <message>
            <source>Search…</source>
            <translation>搜索…</translation>
        </message>
        <message>
            <source>%d of %d</source>
            <translation>%d / %d</translation>
        </message>
    </context>
    <context>
        <name>AveragedPositionDialog</name>
        <message>
            <source>Averaged position</source>
            <translation>平均位置</translation>
        </message>
        <message numerus="yes">
            <source>%n fix(es) averaged from %s</source>
            <translation>
                <numerusform>已对 %n 个定位取平均，来自 %s</numerusform>
            </translation>
        </message>
        <message>
            <source>Position: %.2f, %.2f (%s); %.7f°E, %.7f°N</source>
            <translation>位置：%.2f, %.2f（%s）；东经 %.7f°，北纬 %.7f°</translation>
        </message>
        <message>
            <source>Estimated accuracy: ±%.1f m (2D RMS of the fixes); half the fixes within %.1f m; farthest %.1f m</source>
            <translation>估计精度：±%.1f 米（定位的二维均方根）；半数定位在 %.1f 米以内；最远 %.1f 米</translation>
        </message>
        <message>
            <source>Logged from %s to %s (UTC)</source>
            <translation>记录时间 %s 至 %s（UTC）</translation>
        </message>
        <message numerus="yes">
            <source>%n fix(es) outside the workspace CRS's area were left out</source>
            <translation>
                <numerusform>%n 个定位在工作区坐标系的适用范围之外，已排除</numerusform>
            </translation>
        </message>
        <message>
            <source>Move %s here</source>
            <translation>将 %s 移到此处</translation>
        </message>
        <message>
            <source>Move the selected feature here</source>
            <translation>将所选要素移到此处</translation>
        </message>
        <message>
            <source>Select one point feature on the map first</source>
            <translation>请先在地图上选择一个点要素</translation>
        </message>
        <message>
            <source>Add to %s here…</source>
            <translation>在此处添加到 %s…</translation>
        </message>
        <message>
            <source>Add a feature here…</source>
            <translation>在此处添加要素…</translation>
        </message>
    </context>
    <context>
        <name>BusyDialog</name>
        <message>
            <source>Please wait</source>
            <translation>请稍候</translation>
        </message>
    </context>
    <context>
        <name>CaseListModel</name>
        <message>
            <source>%1 d %2 h</source>
            <extracomment>The InspectionRow of a row, in every column.</extracomment>
            <translation>%1 天 %2 小时</translation>
        </message>
        <message>
            <source>%1 h</source>
            <translation>%1 小时</translation>
        </message>
        <message>
            <source>%1 min</source>
            <translation>%1 分钟</translation>
        </message>
        <message>
            <source>Age</source>
            <translation>时长</translation>
        </message>
        <message>
            <source>Case</source>
            <translation>案件</translation>
        </message>
        <message>
            <source>Facility</source>
            <translation>设施</translation>
        </message>
        <message>
            <source>Condition</source>
            <translation>设施状况</translation>
        </message>
        <message>
            <source>Defect</source>
            <translation>问题类型</translation>
        </message>
        <message>
            <source>Inspector</source>
            <translation>巡查人</translation>
        </message>
        <message>
            <source>Inspected (UTC)</source>
            <translation>巡查时间（UTC）</translation>
        </message>
        <message>
            <source>(deleted)</source>
            <translation>（已删除）</translation>
        </message>
    </context>
    <context>
        <name>CaseListPanel</name>
        <message>
            <source>All open cases</source>
            <extracomment>Status filter entries besides the steps: every open case, every case.</extracomment>
            <translation>全部未结案件</translation>
        </message>
        <message>
            <source>All cases</source>
            <translation>全部案件</translation>
        </message>
        <message>
            <source>Status</source>
            <translation>状态</translation>
        </message>
        <message>
            <source>Older than</source>
            <translation>早于</translation>
        </message>
        <message>
            <source> days</source>
            <translation> 天</translation>
        </message>
        <message>
            <source>any age</source>
            <translation>不限</translation>
        </message>
        <message>
            <source>Refresh</source>
            <translation>刷新</translation>
        </message>
        <message numerus="yes">
            <source>%n case(s)</source>
            <translation>
                <numerusform>%n 件案件</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>ConflictTable</name>
        <message>
            <source>Layer</source>
            <translation>图层</translation>
        </message>
        <message>
            <source>Geometry</source>
            <translation>几何位置</translation>
        </message>
        <message>
            <source>(empty)</source>
            <translation>（空）</translation>
        </message>
        <message>
            <source>(deleted)</source>
            <translation>（已删除）</translation>
        </message>
        <message>
            <source>Both changed</source>
            <translation>双方都修改</translation>
        </message>
        <message>
            <source>Office changed, field deleted</source>
            <translation>办公室修改，外业删除</translation>
        </message>
        <message>
            <source>Office deleted, field changed</source>
            <translation>办公室删除，外业修改</translation>
        </message>
        <message>
            <source>Feature</source>
            <translation>要素</translation>
        </message>
        <message>
            <source>Field</source>
            <translation>字段</translation>
        </message>
        <message>
            <source>Conflict</source>
            <translation>冲突</translation>
        </message>
        <message>
            <source>Base</source>
            <translation>原值</translation>
        </message>
        <message>
            <source>Office</source>
            <translation>办公室</translation>
        </message>
        <message>
            <source>Field value</source>
            <translation>外业值</translation>
        </message>
        <message>
            <source>Office edit</source>
            <translation>办公室编辑</translation>
        </message>
        <message>
            <source>Field edit</source>
            <translation>外业编辑</translation>
        </message>
        <message>
            <source>Keep</source>
            <translation>保留</translation>
        </message>
        <message>
            <source>Keep all office values</source>
            <translation>全部保留办公室的值</translation>
        </message>
        <message>
            <source>Keep all field values</source>
            <translation>全部保留外业的值</translation>
        </message>
        <message>
            <source>Office (delete)</source>
            <translation>办公室（删除）</translation>
        </message>
        <message>
            <source>Field (delete)</source>
            <translation>外业（删除）</translation>
        </message>
        <message>
            <source>Value: %s</source>
            <translation>值：%s</translation>
        </message>
        <message>
            <source>Value…</source>
            <translation>输入值…</translation>
        </message>
        <message>
            <source>Value to keep</source>
            <translation>要保留的值</translation>
        </message>
        <message>
            <source>%s of %s: the office has %s, the field %s. Type the value to keep:</source>
            <translation>%s（%s）：办公室为 %s，外业为 %s。请输入要保留的值：</translation>
        </message>
    </context>
    <context>
        <name>DeleteConfirmation</name>
        <message>
            <source>Delete the selected feature?</source>
            <translation>删除所选要素？</translation>
        </message>
        <message>
            <source>Delete the %d selected features?</source>
            <translation>删除所选的 %d 个要素？</translation>
        </message>
        <message>
            <source>%s: %d</source>
            <translation>%s：%d</translation>
        </message>
        <message>
            <source>You can undo this until you save.</source>
            <translation>保存之前可以撤销此操作。</translation>
        </message>
        <message>
            <source>Delete features</source>
            <translation>删除要素</translation>
        </message>
        <message>
            <source>Delete</source>
            <translation>删除</translation>
        </message>
    </context>
    <context>
        <name>ErrorDialog</name>
        <message>
            <source>Show details</source>
            <translation>显示详情</translation>
        </message>
        <message>
            <source>Copy</source>
            <translation>复制</translation>
        </message>
        <message>
            <source>Hide details</source>
            <translation>隐藏详情</translation>
        </message>
    </context>
    <context>
        <name>FeatureForm</name>
        <message>
            <source>{0}: feature attributes</source>
            <translation>{0}：要素属性</translation>
        </message>
        <message>
            <source>{0}: new feature</source>
            <translation>{0}：新建要素</translation>
        </message>
        <message numerus="yes">
            <source>{0}: edit %n features</source>
            <translation>
                <numerusform>{0}：编辑 %n 个要素</numerusform>
            </translation>
        </message>
        <message>
            <source>{0}: edit feature</source>
            <translation>{0}：编辑要素</translation>
        </message>
        <message>
            <source>Fields marked * are required.</source>
            <translation>标有 * 的字段为必填项。</translation>
        </message>
        <message>
            <source>Photos</source>
            <translation>照片</translation>
        </message>
        <message>
            <source>mixed</source>
            <translation>多个值</translation>
        </message>
        <message>
            <source>Computed from other fields: {0}</source>
            <translation>由其他字段计算：{0}</translation>
        </message>
        <message>
            <source>A single photo kept from before: it stays beside this workspace and does not travel with changes. tongcheng photos adopt moves it to the photos below, which do.</source>
            <translation>以前保存的单张照片：它只留在本工作空间旁边，不会随变更一起传送。tongcheng photos adopt 可将其移到下方会随变更传送的照片中。</translation>
        </message>
        <message>
            <source>Attributes</source>
            <translation>属性</translation>
        </message>
        <message>
            <source>The photo could not be copied: {0}</source>
            <translation>无法复制照片：{0}</translation>
        </message>
        <message>
            <source>Taken from the position: the {0} the feature lies in</source>
            <translation>由位置确定：要素所在的{0}</translation>
        </message>
        <message>
            <source>outside every {0}</source>
            <translation>不在任何{0}内</translation>
        </message>
        <message>
            <source>Component code (部件标识码): given by Tongcheng, never typed</source>
            <translation>部件标识码：由同城自动给出，不可输入</translation>
        </message>
        <message>
            <source>given when saved</source>
            <translation>保存时给出</translation>
        </message>
        <message>
            <source>none yet: the office gives it when it applies the changes</source>
            <translation>暂无：办公室应用变更时给出</translation>
        </message>
        <message>
            <source>required where {0}</source>
            <translation>在{0}时必填</translation>
        </message>
    </context>
    <context>
        <name>FieldEditor</name>
        <message>
            <source>empty</source>
            <translation>空</translation>
        </message>
        <message>
            <source>Clear the date</source>
            <translation>清除日期</translation>
        </message>
    </context>
    <context>
        <name>GpsImportDialog</name>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>&amp;Remove</source>
            <translation>移除(&amp;R)</translation>
        </message>
        <message>
            <source>GPS files (*.gpx *.nmea *.nma *.log *.txt *.csv)</source>
            <translation>GPS 文件 (*.gpx *.nmea *.nma *.log *.txt *.csv)</translation>
        </message>
        <message>
            <source>GPX (*.gpx)</source>
            <translation>GPX (*.gpx)</translation>
        </message>
        <message>
            <source>NMEA logs (*.nmea *.nma *.log *.txt)</source>
            <translation>NMEA 日志 (*.nmea *.nma *.log *.txt)</translation>
        </message>
        <message>
            <source>CSV of points (*.csv *.txt)</source>
            <translation>点位 CSV (*.csv *.txt)</translation>
        </message>
        <message>
            <source>All files (*)</source>
            <translation>所有文件 (*)</translation>
        </message>
        <message>
            <source>Import GPS files</source>
            <translation>导入 GPS 文件</translation>
        </message>
        <message>
            <source>&amp;Add files…</source>
            <translation>添加文件(&amp;A)…</translation>
        </message>
        <message>
            <source>Time zone of times without one:</source>
            <translation>无时区时间的时区：</translation>
        </message>
        <message>
            <source>For example +08:00 or Asia/Shanghai; GPX times are UTC anyway</source>
            <translation>例如 +08:00 或 Asia/Shanghai；GPX 时间本身为 UTC</translation>
        </message>
        <message>
            <source>Datum of the coordinates:</source>
            <translation>坐标系：</translation>
        </message>
        <message>
            <source>WGS84 (GPS receivers)</source>
            <translation>WGS84（GPS 接收机）</translation>
        </message>
        <message>
            <source>GCJ-02 (AMap, Tencent)</source>
            <translation>GCJ-02（高德、腾讯）</translation>
        </message>
        <message>
            <source>BD-09 (Baidu)</source>
            <translation>BD-09（百度）</translation>
        </message>
        <message>
            <source>Simplify tracks, tolerance:</source>
            <translation>简化轨迹，容差：</translation>
        </message>
        <message>
            <source>Drop points faster than:</source>
            <translation>剔除速度超过以下值的点：</translation>
        </message>
        <message>
            <source>Drop points with HDOP above:</source>
            <translation>剔除 HDOP 大于以下值的点：</translation>
        </message>
        <message>
            <source>off</source>
            <translation>关闭</translation>
        </message>
        <message>
            <source>Choose GPS files</source>
            <translation>选择 GPS 文件</translation>
        </message>
        <message>
            <source>Choose at least one file</source>
            <translation>请至少选择一个文件</translation>
        </message>
        <message>
            <source>No such file: %s</source>
            <translation>文件不存在：%s</translation>
        </message>
        <message>
            <source>Time zone %s: %s</source>
            <translation>时区 %s：%s</translation>
        </message>
        <message numerus="yes">
            <source>Importing %n file(s)…</source>
            <translation>
                <numerusform>正在导入 %n 个文件…</numerusform>
            </translation>
        </message>
        <message>
            <source>Cancelling…</source>
            <translation>正在取消…</translation>
        </message>
        <message>
            <source>imported</source>
            <translation>已导入</translation>
        </message>
        <message>
            <source>partly imported: some input skipped</source>
            <translation>部分导入：跳过了部分输入</translation>
        </message>
        <message>
            <source>NOTHING KEPT</source>
            <translation>未保留任何内容</translation>
        </message>
        <message>
            <source>skipped: imported before</source>
            <translation>跳过：此前已导入</translation>
        </message>
        <message>
            <source>failed: nothing written</source>
            <translation>失败：未写入任何内容</translation>
        </message>
        <message>
            <source>already imported</source>
            <translation>已导入过</translation>
        </message>
        <message>
            <source>skipped outside the workspace CRS's area or not transformable: %s</source>
            <translation>因超出工作区坐标系范围或无法转换而跳过：%s</translation>
        </message>
        <message numerus="yes">
            <source>%n point(s)</source>
            <translation>
                <numerusform>%n 个点</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n waypoint(s)</source>
            <translation>
                <numerusform>%n 个航点</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n stationary session(s) (%s) stored as one averaged waypoint each</source>
            <translation>
                <numerusform>%n 个静止时段（%s）各存为一个平均航点</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n fix(es)</source>
            <translation>
                <numerusform>%n 个定位</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n fix(es) of stationary sessions kept as GPS track points (GPS &gt; Use averaged position of an imported session… averages them)</source>
            <translation>
                <numerusform>%n 个静态观测定位已保存为 GPS 轨迹点（“GPS &gt; 使用已导入静态观测的平均位置…”可对其取平均）</numerusform>
            </translation>
        </message>
        <message>
            <source>the fixes themselves were not kept: this workspace has no GPS track points layer</source>
            <translation>定位本身未保存：此工作空间没有 GPS 轨迹点图层</translation>
        </message>
        <message numerus="yes">
            <source>%n NMEA sentence(s) skipped for a wrong checksum</source>
            <translation>
                <numerusform>%n 条 NMEA 语句因校验和错误被跳过</numerusform>
            </translation>
        </message>
        <message>
            <source>dropped points: %s</source>
            <translation>剔除的点：%s</translation>
        </message>
        <message numerus="yes">
            <source>%n empty segment(s), counted but not drawn</source>
            <translation>
                <numerusform>%n 个空轨迹段，已计数但不绘制</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n track(s) or route(s) without any line: not stored</source>
            <translation>
                <numerusform>%n 条没有任何线段的轨迹或路线：未保存</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n time(s) had no zone: read as UTC%s</source>
            <translation>
                <numerusform>%n 个时间没有时区：按 UTC%s 读取</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n time(s) could not be read (stored as missing)</source>
            <translation>
                <numerusform>%n 个时间无法读取（存为空值）</numerusform>
            </translation>
        </message>
        <message>
            <source>… and %d more messages</source>
            <translation>… 另有 %d 条消息</translation>
        </message>
        <message>
            <source>File</source>
            <translation>文件</translation>
        </message>
        <message>
            <source>Format</source>
            <translation>格式</translation>
        </message>
        <message>
            <source>Tracks</source>
            <translation>轨迹</translation>
        </message>
        <message>
            <source>Routes</source>
            <translation>路线</translation>
        </message>
        <message>
            <source>Points</source>
            <translation>点数</translation>
        </message>
        <message>
            <source>Waypoints</source>
            <translation>航点</translation>
        </message>
        <message>
            <source>Dropped</source>
            <translation>剔除</translation>
        </message>
        <message>
            <source>Status</source>
            <translation>状态</translation>
        </message>
        <message>
            <source>GPS import summary</source>
            <translation>GPS 导入结果</translation>
        </message>
        <message>
            <source>%d imported, %d skipped as imported before, %d failed</source>
            <translation>已导入 %d 个，跳过 %d 个（此前已导入），失败 %d 个</translation>
        </message>
        <message>
            <source>Files that failed wrote nothing; the others were imported.</source>
            <translation>失败的文件未写入任何内容；其他文件已导入。</translation>
        </message>
        <message numerus="yes">
            <source>%n file(s) gave nothing to keep: see the notes.</source>
            <translation>
                <numerusform>%n 个文件没有可保留的内容：见说明。</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>GpsMenu</name>
        <message>
            <source>Average a stationary GPS log</source>
            <translation>对静止 GPS 记录取平均</translation>
        </message>
        <message>
            <source>GPS logs (*.gpx *.nmea *.nma *.txt *.log);;All files (*)</source>
            <translation>GPS 记录 (*.gpx *.nmea *.nma *.txt *.log);;所有文件 (*)</translation>
        </message>
        <message>
            <source>Use averaged position of an imported session</source>
            <translation>使用已导入静态观测的平均位置</translation>
        </message>
        <message>
            <source>Stationary session (fixes kept in GPS track points):</source>
            <translation>静态观测（定位保存在 GPS 轨迹点中）：</translation>
        </message>
        <message>
            <source>Save edits first?</source>
            <translation>先保存编辑？</translation>
        </message>
        <message>
            <source>GPS data is written to the workspace directly. Save the %d unsaved edits first, or discard them?</source>
            <translation>GPS 数据直接写入工作空间。先保存这 %d 处未保存的编辑，还是放弃它们？</translation>
        </message>
        <message>
            <source>Import &amp;GPS…</source>
            <translation>导入 GPS(&amp;G)…</translation>
        </message>
        <message>
            <source>Import GPX, NMEA or CSV files into the GPS tracks and waypoints</source>
            <translation>将 GPX、NMEA 或 CSV 文件导入 GPS 轨迹和航点</translation>
        </message>
        <message>
            <source>&amp;Match waypoints to facilities…</source>
            <translation>航点匹配设施(&amp;M)…</translation>
        </message>
        <message>
            <source>Pair GPS waypoints with the nearest facility, review, apply</source>
            <translation>将 GPS 航点与最近的设施配对，审核后应用</translation>
        </message>
        <message>
            <source>Use &amp;averaged position…</source>
            <translation>使用平均位置(&amp;A)…</translation>
        </message>
        <message>
            <source>Average a log of fixes taken over one spot, then move the selected feature there or add one</source>
            <translation>对在同一地点采集的定位记录取平均，然后将所选要素移到该处或在该处添加要素</translation>
        </message>
        <message>
            <source>Use averaged position of an imported &amp;session…</source>
            <translation>使用已导入静态观测的平均位置(&amp;S)…</translation>
        </message>
        <message>
            <source>Average the fixes an import kept of a receiver held still, then move the selected feature there or add one</source>
            <translation>对导入时保存的静止接收机定位取平均，然后将所选要素移到该处或在该处添加要素</translation>
        </message>
        <message>
            <source>&amp;GPS</source>
            <translation>&amp;GPS</translation>
        </message>
        <message>
            <source>Use averaged position</source>
            <translation>使用平均位置</translation>
        </message>
        <message>
            <source>No imported stationary session: import the GPS log of a receiver held still first (its fixes are kept as GPS track points)</source>
            <translation>没有已导入的静态观测：请先导入接收机静止时记录的 GPS 日志（其定位会保存为 GPS 轨迹点）</translation>
        </message>
        <message numerus="yes">
            <source>Averaged position of %n fix(es) used (±%.1f m)</source>
            <translation>
                <numerusform>已使用 %n 个定位的平均位置（±%.1f 米）</numerusform>
            </translation>
        </message>
        <message>
            <source>A GPS import is already running</source>
            <translation>已有一个 GPS 导入正在进行</translation>
        </message>
        <message>
            <source>GPS import</source>
            <translation>GPS 导入</translation>
        </message>
        <message>
            <source>The tracks and waypoints are written to the workspace directly (there may be millions of points), not as edits on the undo stack.</source>
            <translation>轨迹和航点直接写入工作空间（可能多达数百万个点），不作为撤销栈上的编辑。</translation>
        </message>
        <message>
            <source>GPS import cancelled: nothing was written</source>
            <translation>GPS 导入已取消：未写入任何内容</translation>
        </message>
        <message>
            <source>GPS import failed</source>
            <translation>GPS 导入失败</translation>
        </message>
        <message>
            <source>Nothing was written.

%s</source>
            <translation>未写入任何内容。

%s</translation>
        </message>
        <message>
            <source>GPS import: %d imported, %d skipped, %d failed</source>
            <translation>GPS 导入：已导入 %d 个，跳过 %d 个，失败 %d 个</translation>
        </message>
        <message>
            <source>Match waypoints</source>
            <translation>匹配航点</translation>
        </message>
        <message>
            <source>There are no GPS waypoints: import a GPS file first</source>
            <translation>没有 GPS 航点：请先导入 GPS 文件</translation>
        </message>
        <message numerus="yes">
            <source>Match %n waypoint(s) to %s</source>
            <translation>
                <numerusform>将 %n 个航点匹配到%s</numerusform>
            </translation>
        </message>
        <message>
            <source>Apply matches</source>
            <translation>应用匹配</translation>
        </message>
        <message>
            <source>Nothing was changed.

%s</source>
            <translation>未做任何更改。

%s</translation>
        </message>
        <message>
            <source>The facilities are already at their waypoints</source>
            <translation>设施已在其航点位置</translation>
        </message>
        <message numerus="yes">
            <source>%n facility(ies) moved onto their waypoints</source>
            <translation>
                <numerusform>%n 个设施已移到其航点位置</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n created (undoable; Save writes them)</source>
            <translation>
                <numerusform>新建 %n 个（可撤销；保存后写入）</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>HelpDialogs</name>
        <message>
            <source>Public domain</source>
            <translation>公有领域</translation>
        </message>
        <message>
            <source>About Tongcheng</source>
            <translation>关于同城</translation>
        </message>
        <message>
            <source>&lt;b&gt;Tongcheng 同城&lt;/b&gt; %s&lt;br&gt;Street-facility inventory editor. MIT licence.</source>
            <translation>&lt;b&gt;Tongcheng 同城&lt;/b&gt; %s&lt;br&gt;街道设施普查编辑器。MIT 许可证。</translation>
        </message>
        <message>
            <source>Bundled libraries and their licences:</source>
            <translation>随附的库及其许可证：</translation>
        </message>
        <message>
            <source>Library</source>
            <translation>库</translation>
        </message>
        <message>
            <source>Version</source>
            <translation>版本</translation>
        </message>
        <message>
            <source>Licence</source>
            <translation>许可证</translation>
        </message>
        <message>
            <source>Keyboard shortcuts</source>
            <translation>键盘快捷键</translation>
        </message>
        <message>
            <source>Open the form of the selected features</source>
            <translation>打开所选要素的表单</translation>
        </message>
        <message>
            <source>Edit a feature's attributes</source>
            <translation>编辑要素属性</translation>
        </message>
        <message>
            <source>Double-click</source>
            <translation>双击</translation>
        </message>
        <message>
            <source>Action</source>
            <translation>操作</translation>
        </message>
        <message>
            <source>Keys</source>
            <translation>按键</translation>
        </message>
        <message>
            <source>Tongcheng guide</source>
            <translation>同城使用指南</translation>
        </message>
    </context>
    <context>
        <name>HelpMenu</name>
        <message>
            <source>&amp;Help</source>
            <translation>帮助(&amp;H)</translation>
        </message>
        <message>
            <source>Open &amp;log folder</source>
            <translation>打开日志文件夹(&amp;L)</translation>
        </message>
        <message>
            <source>Show the folder of the editor's log and error reports</source>
            <translation>显示编辑器日志和错误报告所在的文件夹</translation>
        </message>
        <message>
            <source>&amp;Guide</source>
            <translation>使用指南(&amp;G)</translation>
        </message>
        <message>
            <source>The user's guide, offline (F1)</source>
            <translation>离线使用指南（F1）</translation>
        </message>
        <message>
            <source>&amp;Keyboard shortcuts</source>
            <translation>键盘快捷键(&amp;K)</translation>
        </message>
        <message>
            <source>&amp;About Tongcheng</source>
            <translation>关于同城(&amp;A)</translation>
        </message>
        <message>
            <source>Guide</source>
            <translation>使用指南</translation>
        </message>
        <message>
            <source>The guide %s is missing.</source>
            <translation>找不到使用指南 %s。</translation>
        </message>
        <message>
            <source>Open log folder</source>
            <translation>打开日志文件夹</translation>
        </message>
        <message>
            <source>The folder %s could not be opened.</source>
            <translation>无法打开文件夹 %s。</translation>
        </message>
    </context>
    <context>
        <name>IdentifyPanel</name>
        <message>
            <source>Field</source>
            <translation>字段</translation>
        </message>
        <message>
            <source>Value</source>
            <translation>值</translation>
        </message>
        <message>
            <source>new (unsaved)</source>
            <translation>新建（未保存）</translation>
        </message>
        <message>
            <source>Created by</source>
            <translation>创建人</translation>
        </message>
        <message>
            <source>Created at (UTC)</source>
            <translation>创建时间（UTC）</translation>
        </message>
        <message>
            <source>Modified by</source>
            <translation>修改人</translation>
        </message>
        <message>
            <source>Modified at (UTC)</source>
            <translation>修改时间（UTC）</translation>
        </message>
        <message>
            <source>Identifier (uuid)</source>
            <translation>标识码（uuid）</translation>
        </message>
        <message numerus="yes">
            <source>Photos (%n)</source>
            <translation>
                <numerusform>照片（%n）</numerusform>
            </translation>
        </message>
        <message>
            <source>Double-click a photo to see it full size</source>
            <translation>双击照片查看原图</translation>
        </message>
        <message>
            <source>yes</source>
            <translation>是</translation>
        </message>
        <message>
            <source>no</source>
            <translation>否</translation>
        </message>
    </context>
    <context>
        <name>ImportInventoryDialog</name>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>Field</source>
            <translation>字段</translation>
        </message>
        <message>
            <source>Points</source>
            <translation>点位</translation>
        </message>
        <message>
            <source>Check the rows to see them here</source>
            <translation>检查各行后在此显示</translation>
        </message>
        <message>
            <source>Import inventory</source>
            <translation>导入台账</translation>
        </message>
        <message>
            <source>Browse…</source>
            <translation>浏览…</translation>
        </message>
        <message>
            <source>Import the rows that pass, leave out the others</source>
            <translation>导入通过检查的行，跳过其他行</translation>
        </message>
        <message>
            <source>Check rows</source>
            <translation>检查各行</translation>
        </message>
        <message>
            <source>File:</source>
            <translation>文件：</translation>
        </message>
        <message>
            <source>Layer:</source>
            <translation>图层：</translation>
        </message>
        <message>
            <source>Source CRS:</source>
            <translation>源坐标系：</translation>
        </message>
        <message>
            <source>x / longitude:</source>
            <translation>x / 经度：</translation>
        </message>
        <message>
            <source>y / latitude:</source>
            <translation>y / 纬度：</translation>
        </message>
        <message>
            <source>Coordinate columns:</source>
            <translation>坐标列：</translation>
        </message>
        <message>
            <source>Update features whose field matches:</source>
            <translation>按此字段匹配并更新已有要素：</translation>
        </message>
        <message>
            <source>Source column</source>
            <translation>源数据列</translation>
        </message>
        <message>
            <source>Row</source>
            <translation>行</translation>
        </message>
        <message>
            <source>Column</source>
            <translation>列</translation>
        </message>
        <message>
            <source>Value</source>
            <translation>值</translation>
        </message>
        <message>
            <source>Problem</source>
            <translation>问题</translation>
        </message>
        <message>
            <source>First rows</source>
            <translation>前几行</translation>
        </message>
        <message>
            <source>Validation report</source>
            <translation>检查报告</translation>
        </message>
        <message>
            <source>Column mapping (suggested from the names; change any):</source>
            <translation>列对应关系（按名称自动建议，可修改）：</translation>
        </message>
        <message>
            <source>Choose a file to import.</source>
            <translation>请选择要导入的文件。</translation>
        </message>
        <message>
            <source>Import</source>
            <translation>导入</translation>
        </message>
        <message>
            <source>Inventories (*.shp *.geojson *.json *.gpkg *.fgb *.kml *.kmz *.csv *.txt *.xlsx);;All files (*)</source>
            <translation>台账文件 (*.shp *.geojson *.json *.gpkg *.fgb *.kml *.kmz *.csv *.txt *.xlsx);;所有文件 (*)</translation>
        </message>
        <message>
            <source>the suggested mapping</source>
            <translation>建议的对应关系</translation>
        </message>
        <message>
            <source>(none: every row is a new feature)</source>
            <translation>（无：每行都是新要素）</translation>
        </message>
        <message>
            <source>the mapping of the dialog</source>
            <translation>对话框中的对应关系</translation>
        </message>
        <message numerus="yes">
            <source>Checking %n row(s)…</source>
            <translation>
                <numerusform>正在检查 %n 行…</numerusform>
            </translation>
        </message>
        <message>
            <source>Check cancelled.</source>
            <translation>检查已取消。</translation>
        </message>
        <message numerus="yes">
            <source>%n new</source>
            <translation>
                <numerusform>%n 个新要素</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n matching a feature</source>
            <translation>
                <numerusform>%n 行匹配已有要素</numerusform>
            </translation>
        </message>
        <message>
            <source>source CRS %s</source>
            <translation>源坐标系 %s</translation>
        </message>
        <message numerus="yes">
            <source>%n row(s) checked</source>
            <translation>
                <numerusform>已检查 %n 行</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n pass</source>
            <translation>
                <numerusform>%n 行通过</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>%n break a rule</source>
            <translation>
                <numerusform>%n 行违反规则</numerusform>
            </translation>
        </message>
        <message>
            <source>Press Check rows to check every row against the layer's rules.</source>
            <translation>点击“检查各行”，按图层规则检查每一行。</translation>
        </message>
    </context>
    <context>
        <name>ImportMenu</name>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>Import inventory</source>
            <translation>导入台账</translation>
        </message>
        <message>
            <source>Nothing was changed.

%s</source>
            <translation>未做任何更改。

%s</translation>
        </message>
        <message>
            <source>Import &amp;inventory…</source>
            <translation>导入台账(&amp;I)…</translation>
        </message>
        <message>
            <source>Import an existing inventory (Shapefile, GeoJSON, GeoPackage, KML, CSV, XLSX) into a layer, checked against its rules</source>
            <translation>将已有台账（Shapefile、GeoJSON、GeoPackage、KML、CSV、XLSX）按图层规则检查后导入图层</translation>
        </message>
        <message numerus="yes">
            <source>Import %n row(s) of %s into %s</source>
            <translation>
                <numerusform>将 %s 的 %n 行导入到%s</numerusform>
            </translation>
        </message>
        <message>
            <source>Importing %s…</source>
            <translation>正在导入 %s…</translation>
        </message>
        <message>
            <source>Import cancelled: nothing was changed</source>
            <translation>导入已取消：未做任何更改</translation>
        </message>
        <message>
            <source>Imported into %s: %d new, %d changed, %d unchanged, %d rows left out (undoable; Save writes them)</source>
            <translation>已导入到%s：新建 %d 个，修改 %d 个，未变 %d 个，跳过 %d 行（可撤销；保存后写入）</translation>
        </message>
    </context>
    <context>
        <name>InspectionsMenu</name>
        <message numerus="yes">
            <source>Inspections (%n)</source>
            <translation>
                <numerusform>巡查记录（%n）</numerusform>
            </translation>
        </message>
        <message>
            <source>Record inspection of %s %d</source>
            <translation>记录%s %d 的巡查</translation>
        </message>
        <message>
            <source>Edit inspections of %s %d</source>
            <translation>编辑%s %d 的巡查记录</translation>
        </message>
        <message>
            <source>Inspection edit refused</source>
            <translation>巡查编辑被拒绝</translation>
        </message>
        <message>
            <source>Cases</source>
            <translation>案件</translation>
        </message>
        <message>
            <source>Colour facilities by open &amp;cases</source>
            <translation>按未结案件着色设施(&amp;C)</translation>
        </message>
        <message>
            <source>Draw the facilities by their open cases: none, one, two or more</source>
            <translation>按未结案件数着色设施：无、一件、两件及以上</translation>
        </message>
        <message>
            <source>The facility of inspection %s is not in this workspace</source>
            <translation>巡查记录 %s 的设施不在本工作区中</translation>
        </message>
        <message>
            <source>1 open case</source>
            <translation>1 件未结案件</translation>
        </message>
        <message>
            <source>2 or more open cases</source>
            <translation>2 件及以上未结案件</translation>
        </message>
    </context>
    <context>
        <name>InspectionsPage</name>
        <message>
            <source>Inspected (UTC)</source>
            <translation>巡查时间（UTC）</translation>
        </message>
        <message>
            <source>Condition</source>
            <translation>设施状况</translation>
        </message>
        <message>
            <source>Defect</source>
            <translation>问题类型</translation>
        </message>
        <message>
            <source>Case</source>
            <translation>案件</translation>
        </message>
        <message>
            <source>Inspector</source>
            <translation>巡查人</translation>
        </message>
        <message>
            <source>Photos</source>
            <translation>照片</translation>
        </message>
        <message>
            <source>Add inspection…</source>
            <translation>添加巡查…</translation>
        </message>
        <message>
            <source>Open…</source>
            <translation>打开…</translation>
        </message>
        <message>
            <source>Inspection refused</source>
            <translation>巡查记录被拒绝</translation>
        </message>
        <message>
            <source>A case is opened: %s.</source>
            <translation>已立起案件：%s。</translation>
        </message>
        <message>
            <source>The facility follows its latest inspection: %s.</source>
            <translation>设施随最近一次巡查更新：%s。</translation>
        </message>
        <message>
            <source>The facility has a later inspection: its fields stay as they are.</source>
            <translation>该设施有更晚的巡查记录：其属性保持不变。</translation>
        </message>
    </context>
    <context>
        <name>LayerChooser</name>
        <message>
            <source>Layer</source>
            <translation>图层</translation>
        </message>
        <message>
            <source>Features</source>
            <translation>要素数</translation>
        </message>
        <message>
            <source>Goes with its facilities: the records of the features checked out</source>
            <translation>随其设施一同检出：所检出要素的记录</translation>
        </message>
        <message>
            <source>Comes with the layers that take their zone or grid cell from it</source>
            <translation>随从它取管理分区或单元网格的图层一同检出</translation>
        </message>
    </context>
    <context>
        <name>LayerPanel</name>
        <message>
            <source>Move the layer up (Ctrl+Up)</source>
            <translation>上移图层（Ctrl+↑）</translation>
        </message>
        <message>
            <source>Move the layer down (Ctrl+Down)</source>
            <translation>下移图层（Ctrl+↓）</translation>
        </message>
        <message>
            <source>Zoom to the layer</source>
            <translation>缩放至图层</translation>
        </message>
        <message>
            <source>other</source>
            <translation>其他</translation>
        </message>
        <message>
            <source>Locked: editing is off (click to unlock)</source>
            <translation>已锁定：不可编辑（单击解锁）</translation>
        </message>
        <message>
            <source>Editable (click to lock)</source>
            <translation>可编辑（单击锁定）</translation>
        </message>
    </context>
    <context>
        <name>MainWindow</name>
        <message>
            <source>&amp;Open workspace…</source>
            <translation>打开工作空间(&amp;O)…</translation>
        </message>
        <message>
            <source>&amp;Save edits</source>
            <translation>保存编辑(&amp;S)</translation>
        </message>
        <message>
            <source>Write all pending edits to the workspace (Ctrl+S)</source>
            <translation>将所有未保存的编辑写入工作空间（Ctrl+S）</translation>
        </message>
        <message>
            <source>&amp;Discard edits</source>
            <translation>放弃编辑(&amp;D)</translation>
        </message>
        <message>
            <source>Drop all edits since the last save</source>
            <translation>放弃上次保存以来的所有编辑</translation>
        </message>
        <message>
            <source>&amp;Quit</source>
            <translation>退出(&amp;Q)</translation>
        </message>
        <message>
            <source>Edit a&amp;ttributes…</source>
            <translation>编辑属性(&amp;T)…</translation>
        </message>
        <message>
            <source>Open the form of the selected features (Enter on the map, or double-click one)</source>
            <translation>打开所选要素的表单（在地图上按回车，或双击要素）</translation>
        </message>
        <message>
            <source>&amp;Delete selected</source>
            <translation>删除所选(&amp;D)</translation>
        </message>
        <message>
            <source>Delete the selected features (Del)</source>
            <translation>删除所选要素（Del）</translation>
        </message>
        <message>
            <source>Select by &amp;expression…</source>
            <translation>按表达式选择(&amp;E)…</translation>
        </message>
        <message>
            <source>Select features matching a filter expression (Ctrl+E)</source>
            <translation>选择符合筛选表达式的要素（Ctrl+E）</translation>
        </message>
        <message>
            <source>&amp;Clear selection</source>
            <translation>清除选择(&amp;C)</translation>
        </message>
        <message>
            <source>Unselect all features (Ctrl+Shift+A)</source>
            <translation>取消选择所有要素（Ctrl+Shift+A）</translation>
        </message>
        <message>
            <source>Zoom to &amp;full extent</source>
            <translation>缩放至全图(&amp;F)</translation>
        </message>
        <message>
            <source>Show every feature (Ctrl+Shift+F)</source>
            <translation>显示所有要素（Ctrl+Shift+F）</translation>
        </message>
        <message>
            <source>Zoom to &amp;layer</source>
            <translation>缩放至图层(&amp;L)</translation>
        </message>
        <message>
            <source>Show all of the current layer (Ctrl+Shift+L)</source>
            <translation>显示当前图层的全部要素（Ctrl+Shift+L）</translation>
        </message>
        <message>
            <source>Zoom to &amp;selection</source>
            <translation>缩放至所选(&amp;S)</translation>
        </message>
        <message>
            <source>Show the selected features (Ctrl+J)</source>
            <translation>显示所选要素（Ctrl+J）</translation>
        </message>
        <message>
            <source>Zoom &amp;in</source>
            <translation>放大(&amp;I)</translation>
        </message>
        <message>
            <source>Show &amp;labels</source>
            <translation>显示标注(&amp;L)</translation>
        </message>
        <message>
            <source>Label the features with their names where the scale leaves room (Ctrl+Shift+B)</source>
            <translation>在比例尺允许时以名称标注要素 (Ctrl+Shift+B)</translation>
        </message>
        <message>
            <source>Zoom &amp;out</source>
            <translation>缩小(&amp;O)</translation>
        </message>
        <message>
            <source>&amp;Pan</source>
            <translation>平移(&amp;P)</translation>
        </message>
        <message>
            <source>Pan the map by dragging (P)</source>
            <translation>拖动以平移地图（P）</translation>
        </message>
        <message>
            <source>&amp;Identify</source>
            <translation>识别(&amp;I)</translation>
        </message>
        <message>
            <source>Click a feature to see its attributes (I)</source>
            <translation>单击要素查看其属性（I）</translation>
        </message>
        <message>
            <source>&amp;Select</source>
            <translation>选择(&amp;S)</translation>
        </message>
        <message>
            <source>Select by click or rectangle; Shift adds, Ctrl removes (S)</source>
            <translation>单击或框选要素；按住 Shift 添加，按住 Ctrl 移除（S）</translation>
        </message>
        <message>
            <source>&amp;Add point</source>
            <translation>添加点(&amp;A)</translation>
        </message>
        <message>
            <source>Click to add a feature to the current layer (A)</source>
            <translation>单击以向当前图层添加要素（A）</translation>
        </message>
        <message>
            <source>&amp;Photo import…</source>
            <translation>照片导入(&amp;P)…</translation>
        </message>
        <message>
            <source>Scale large photos down as they are added (longest edge, JPEG quality)</source>
            <translation>添加照片时缩小大照片（最长边、JPEG 质量）</translation>
        </message>
        <message>
            <source>&amp;Move point</source>
            <translation>移动点(&amp;M)</translation>
        </message>
        <message>
            <source>Drag a point of the current layer; snaps to other features (M)</source>
            <translation>拖动当前图层的点，可捕捉到其他要素（M）</translation>
        </message>
        <message>
            <source>Undo (Ctrl+Z)</source>
            <translation>撤销（Ctrl+Z）</translation>
        </message>
        <message>
            <source>Redo (Ctrl+Shift+Z)</source>
            <translation>重做（Ctrl+Shift+Z）</translation>
        </message>
        <message>
            <source>&amp;File</source>
            <translation>文件(&amp;F)</translation>
        </message>
        <message>
            <source>&amp;Edit</source>
            <translation>编辑(&amp;E)</translation>
        </message>
        <message>
            <source>&amp;View</source>
            <translation>视图(&amp;V)</translation>
        </message>
        <message>
            <source>&amp;Panels</source>
            <translation>面板(&amp;P)</translation>
        </message>
        <message>
            <source>&amp;Settings</source>
            <translation>设置(&amp;S)</translation>
        </message>
        <message>
            <source>&amp;Language</source>
            <translation>语言(&amp;L)</translation>
        </message>
        <message>
            <source>Select the features to edit first</source>
            <translation>请先选择要编辑的要素</translation>
        </message>
        <message>
            <source>Edit attributes…</source>
            <translation>编辑属性…</translation>
        </message>
        <message>
            <source>Zoom to</source>
            <translation>缩放至</translation>
        </message>
        <message>
            <source>Copy coordinates</source>
            <translation>复制坐标</translation>
        </message>
        <message>
            <source>Delete…</source>
            <translation>删除…</translation>
        </message>
        <message>
            <source>Copied %s (%s)</source>
            <translation>已复制 %s（%s）</translation>
        </message>
        <message>
            <source>Edit refused</source>
            <translation>编辑被拒绝</translation>
        </message>
        <message>
            <source>Choose a point layer in the layer panel first</source>
            <translation>请先在图层面板中选择一个点图层</translation>
        </message>
        <message>
            <source>The selected features are in locked layers</source>
            <translation>所选要素位于已锁定的图层中</translation>
        </message>
        <message>
            <source>Select the features to delete first</source>
            <translation>请先选择要删除的要素</translation>
        </message>
        <message numerus="yes">
            <source>Delete %n feature(s)</source>
            <translation>
                <numerusform>删除 %n 个要素</numerusform>
            </translation>
        </message>
        <message>
            <source>Tools</source>
            <translation>工具</translation>
        </message>
        <message>
            <source>Layers</source>
            <translation>图层</translation>
        </message>
        <message>
            <source>Identify</source>
            <translation>识别</translation>
        </message>
        <message>
            <source>History</source>
            <translation>历史记录</translation>
        </message>
        <message>
            <source>&lt;last save&gt;</source>
            <translation>&lt;上次保存&gt;</translation>
        </message>
        <message>
            <source>Attribute table</source>
            <translation>属性表</translation>
        </message>
        <message>
            <source>Scale</source>
            <translation>比例尺</translation>
        </message>
        <message>
            <source>%s[*] — Tongcheng</source>
            <translation>%s[*] — Tongcheng</translation>
        </message>
        <message>
            <source>Unsaved: %d added, %d changed, %d deleted</source>
            <translation>未保存：新增 %d，修改 %d，删除 %d</translation>
        </message>
        <message>
            <source>; photos: %d added, %d deleted</source>
            <translation>；照片：新增 %d，删除 %d</translation>
        </message>
        <message>
            <source>No unsaved edits</source>
            <translation>没有未保存的编辑</translation>
        </message>
        <message>
            <source>Layer %s could not be drawn: %s</source>
            <translation>无法绘制图层 %s：%s</translation>
        </message>
        <message>
            <source>%s is a reference layer: read-only in the editor</source>
            <translation>%s 是参考图层：在编辑器中只读</translation>
        </message>
        <message>
            <source>%s is locked: unlock it in the layer panel to edit it</source>
            <translation>%s 已锁定：请在图层面板中解锁后再编辑</translation>
        </message>
        <message numerus="yes">
            <source>%n feature(s) selected</source>
            <translation>
                <numerusform>已选择 %n 个要素</numerusform>
            </translation>
        </message>
        <message>
            <source>Select by expression</source>
            <translation>按表达式选择</translation>
        </message>
        <message>
            <source>Save failed</source>
            <translation>保存失败</translation>
        </message>
        <message>
            <source>The edits could not be saved; they are still pending.

%s</source>
            <translation>无法保存编辑；这些编辑仍未保存。

%s</translation>
        </message>
        <message numerus="yes">
            <source>Edits saved; %n new feature(s) wait for a component code: this workspace's block of codes is used up, the office gives them codes when it applies the changes</source>
            <translation>
                <numerusform>编辑已保存；%n 个新要素等待部件标识码：本工作空间的编码段已用完，办公室应用变更时给出</numerusform>
            </translation>
        </message>
        <message>
            <source>Edits saved</source>
            <translation>编辑已保存</translation>
        </message>
        <message>
            <source>Open workspace</source>
            <translation>打开工作空间</translation>
        </message>
        <message>
            <source>Tongcheng workspaces (*.sqlite *.db);;All files (*)</source>
            <translation>Tongcheng 工作空间 (*.sqlite *.db);;所有文件 (*)</translation>
        </message>
    </context>
    <context>
        <name>MatchReviewDialog</name>
        <message>
            <source>Match waypoints to facilities</source>
            <extracomment>The invisible root: the parent of every row (a table has no tree).</extracomment>
            <translation>航点匹配设施</translation>
        </message>
        <message>
            <source>Facility layer:</source>
            <translation>设施图层：</translation>
        </message>
        <message>
            <source>Largest distance:</source>
            <translation>最大距离：</translation>
        </message>
        <message>
            <source>Waypoint</source>
            <translation>航点</translation>
        </message>
        <message>
            <source>Facility</source>
            <translation>设施</translation>
        </message>
        <message>
            <source>Distance (m)</source>
            <translation>距离（米）</translation>
        </message>
        <message>
            <source>no facility within the distance</source>
            <translation>距离内没有设施</translation>
        </message>
        <message>
            <source>(none: new facility)</source>
            <translation>（无：新建设施）</translation>
        </message>
        <message>
            <source>%d waypoints: %d matched to %s within %s m, %d unmatched</source>
            <translation>%d 个航点：%d 个在 %s 米内匹配到%s，%d 个未匹配</translation>
        </message>
        <message>
            <source>Create facilities from the checked unmatched waypoints</source>
            <translation>用勾选的未匹配航点新建设施</translation>
        </message>
        <message>
            <source>Check all</source>
            <translation>全选</translation>
        </message>
        <message>
            <source>Check none</source>
            <translation>全不选</translation>
        </message>
        <message>
            <source>Review waypoint matches</source>
            <translation>审核航点匹配</translation>
        </message>
    </context>
    <context>
        <name>PhotoEditor</name>
        <message>
            <source>Choose photo…</source>
            <translation>选择照片…</translation>
        </message>
        <message>
            <source>Remove photo</source>
            <translation>移除照片</translation>
        </message>
        <message>
            <source>Choose a photo</source>
            <translation>选择照片</translation>
        </message>
        <message>
            <source>Images ({0})</source>
            <translation>图片 ({0})</translation>
        </message>
        <message>
            <source>No photo</source>
            <translation>无照片</translation>
        </message>
        <message>
            <source>Photo not found</source>
            <translation>找不到照片</translation>
        </message>
    </context>
    <context>
        <name>PhotoSettingsDialog</name>
        <message>
            <source>Photo import</source>
            <translation>照片导入</translation>
        </message>
        <message>
            <source>Scale large photos down as they are added</source>
            <translation>添加照片时缩小大照片</translation>
        </message>
        <message>
            <source>The photo's EXIF (time, author, position, direction) is kept. Smaller photos, PDF, GIF and TIFF files are stored as they are.</source>
            <translation>照片的 EXIF（时间、作者、位置、方向）会保留。较小的照片以及 PDF、GIF、TIFF 文件按原样保存。</translation>
        </message>
        <message>
            <source>Longest edge</source>
            <translation>最长边</translation>
        </message>
        <message>
            <source>JPEG quality</source>
            <translation>JPEG 质量</translation>
        </message>
    </context>
    <context>
        <name>PhotoStrip</name>
        <message>
            <source>Add photo…</source>
            <translation>添加照片…</translation>
        </message>
        <message>
            <source>Add photos or PDF files (you can also drop files here or paste)</source>
            <translation>添加照片或 PDF 文件（也可以把文件拖到这里或粘贴）</translation>
        </message>
        <message>
            <source>Paste</source>
            <translation>粘贴</translation>
        </message>
        <message>
            <source>View</source>
            <translation>查看</translation>
        </message>
        <message>
            <source>Delete photo</source>
            <translation>删除照片</translation>
        </message>
        <message>
            <source>No photos. Drop image files here, paste one, or press Add photo…</source>
            <translation>没有照片。可把图片文件拖到这里、粘贴，或点击“添加照片…”</translation>
        </message>
        <message>
            <source>No photos</source>
            <translation>没有照片</translation>
        </message>
        <message>
            <source>not yet saved</source>
            <translation>尚未保存</translation>
        </message>
        <message>
            <source>dropped image</source>
            <translation>拖入的图片</translation>
        </message>
    </context>
    <context>
        <name>PhotoViewer</name>
        <message>
            <source>Photo {0}</source>
            <translation>照片 {0}</translation>
        </message>
        <message>
            <source>This attachment cannot be shown here ({0}); use tongcheng photos extract.</source>
            <translation>此附件无法在这里显示（{0}）；请使用 tongcheng photos extract 导出。</translation>
        </message>
    </context>
    <context>
        <name>ProgressJob</name>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>Cancelling…</source>
            <translation>正在取消…</translation>
        </message>
    </context>
    <context>
        <name>Prompts</name>
        <message>
            <source>Unsaved edits</source>
            <translation>未保存的编辑</translation>
        </message>
        <message>
            <source>There are %d unsaved edits. Save them before closing?</source>
            <translation>有 %d 处编辑尚未保存。关闭前是否保存？</translation>
        </message>
        <message>
            <source>Discard edits</source>
            <translation>放弃编辑</translation>
        </message>
        <message>
            <source>Discard %d unsaved edits and return to the last save? This cannot be undone.</source>
            <translation>放弃 %d 处未保存的编辑并恢复到上次保存的状态？此操作无法撤销。</translation>
        </message>
        <message>
            <source>Add photos</source>
            <translation>添加照片</translation>
        </message>
        <message>
            <source>Photos and PDF files (*.jpg *.jpeg *.png *.webp *.gif *.tif *.tiff *.pdf);;All files (*)</source>
            <translation>照片和 PDF 文件 (*.jpg *.jpeg *.png *.webp *.gif *.tif *.tiff *.pdf);;所有文件 (*)</translation>
        </message>
        <message>
            <source>%s cannot be undone with Undo.</source>
            <translation>“%s”无法用撤销恢复。</translation>
        </message>
        <message>
            <source>A restore point of the workspace is made first: File &gt; Restore point… brings it back.</source>
            <translation>将先为工作空间创建还原点：可通过“文件 &gt; 还原点…”恢复。</translation>
        </message>
        <message>
            <source>Make restore point and continue</source>
            <translation>创建还原点并继续</translation>
        </message>
        <message>
            <source>Restore point</source>
            <translation>还原点</translation>
        </message>
        <message>
            <source>Bring the workspace back to %s?

The present state is kept as a restore point first, so this can be taken back too.</source>
            <translation>将工作空间恢复到 %s？

当前状态会先保存为还原点，因此此操作也可以撤回。</translation>
        </message>
    </context>
    <context>
        <name>RestoreMenu</name>
        <message>
            <source>Restore point</source>
            <translation>还原点</translation>
        </message>
        <message>
            <source>Save edits first?</source>
            <translation>先保存编辑？</translation>
        </message>
        <message>
            <source>Making a restore point…</source>
            <translation>正在创建还原点…</translation>
        </message>
        <message>
            <source>No restore point could be made, so %s was not started.

%s</source>
            <translation>无法创建还原点，因此未开始“%s”。

%s</translation>
        </message>
        <message>
            <source>Restore point made: %s</source>
            <translation>已创建还原点：%s</translation>
        </message>
        <message>
            <source>&amp;Restore point…</source>
            <translation>还原点(&amp;R)…</translation>
        </message>
        <message>
            <source>Bring the workspace back to a copy made before an update or a large import</source>
            <translation>将工作空间恢复到更新或大批量导入之前创建的副本</translation>
        </message>
        <message>
            <source>Wait until the GPS import has finished.</source>
            <translation>请等待 GPS 导入完成。</translation>
        </message>
        <message>
            <source>Restore %s</source>
            <translation>恢复 %s</translation>
        </message>
        <message>
            <source>Restoring the workspace…</source>
            <translation>正在恢复工作空间…</translation>
        </message>
        <message>
            <source>The workspace was not changed.

%s</source>
            <translation>工作空间未被更改。

%s</translation>
        </message>
        <message>
            <source>Workspace restored to %s</source>
            <translation>工作空间已恢复到 %s</translation>
        </message>
        <message>
            <source>Save the %d unsaved edits before restoring, or discard them?</source>
            <translation>恢复前保存 %d 个未保存的编辑，还是放弃它们？</translation>
        </message>
    </context>
    <context>
        <name>RestorePointsDialog</name>
        <message>
            <source>%s (before %s)</source>
            <translation>%s（%s之前）</translation>
        </message>
        <message>
            <source>Restore point</source>
            <translation>还原点</translation>
        </message>
        <message>
            <source>Restore points are copies of the workspace made before steps that Undo cannot take back. Restoring one replaces the workspace with it; the present state is kept as a restore point first.
Kept in %s (the newest %d).</source>
            <translation>还原点是在无法撤销的步骤之前创建的工作空间副本。恢复某个还原点会用它替换工作空间；当前状态会先保存为还原点。
保存在 %s（保留最新的 %d 个）。</translation>
        </message>
        <message>
            <source>Made at</source>
            <translation>创建时间</translation>
        </message>
        <message>
            <source>Before</source>
            <translation>操作</translation>
        </message>
        <message>
            <source>Size</source>
            <translation>大小</translation>
        </message>
        <message>
            <source>There are no restore points yet.</source>
            <translation>还没有还原点。</translation>
        </message>
        <message>
            <source>&amp;Restore</source>
            <translation>恢复(&amp;R)</translation>
        </message>
    </context>
    <context>
        <name>ScaleBar</name>
        <message>
            <source>{0} km</source>
            <translation>{0} 千米</translation>
        </message>
        <message>
            <source>{0} m</source>
            <translation>{0} 米</translation>
        </message>
    </context>
    <context>
        <name>SelectByExpressionDialog</name>
        <message>
            <source>Select by expression</source>
            <translation>按表达式选择</translation>
        </message>
        <message>
            <source>New selection</source>
            <translation>新建选择</translation>
        </message>
        <message>
            <source>Add to selection</source>
            <translation>添加到选择</translation>
        </message>
        <message>
            <source>Remove from selection</source>
            <translation>从选择中移除</translation>
        </message>
        <message>
            <source>Select within selection</source>
            <translation>在所选中选择</translation>
        </message>
        <message>
            <source>Select</source>
            <translation>选择</translation>
        </message>
        <message>
            <source>Layer</source>
            <translation>图层</translation>
        </message>
        <message>
            <source>Mode</source>
            <translation>方式</translation>
        </message>
        <message>
            <source>Fields (double-click to insert)</source>
            <translation>字段（双击插入）</translation>
        </message>
        <message>
            <source>Values</source>
            <translation>值</translation>
        </message>
        <message>
            <source>Expression</source>
            <translation>表达式</translation>
        </message>
        <message>
            <source>Cannot use this expression: %s</source>
            <translation>无法使用此表达式：%s</translation>
        </message>
        <message numerus="yes">
            <source>%n feature(s) match</source>
            <translation>
                <numerusform>%n 个要素符合</numerusform>
            </translation>
        </message>
    </context>
    <context>
        <name>SentReportDialog</name>
        <message>
            <source>Changes sent</source>
            <translation>变更已发送</translation>
        </message>
        <message numerus="yes">
            <source>%n field(s) had been changed at the office too since your last update. The master kept the value shown under Keep; your values are in the report:</source>
            <translation>
                <numerusform>自您上次更新以来，办公室也修改了 %n 个字段。主库保留了“保留”一列所示的值；您的值记录在报告中：</numerusform>
            </translation>
        </message>
        <message>
            <source>Receive update brings the office's values into this workspace.</source>
            <translation>“接收更新”会把办公室的值带入此工作空间。</translation>
        </message>
    </context>
    <context>
        <name>ServerAccess</name>
        <message>
            <source>The server refused the login: wrong user or password, or no password given (a ~/.pgpass file works too).</source>
            <translation>服务器拒绝登录：用户名或密码错误，或未提供密码（也可以使用 ~/.pgpass 文件）。</translation>
        </message>
        <message>
            <source>The server cannot be reached: is it running, is the address right, is there a network?</source>
            <translation>无法连接服务器：服务器是否在运行？地址是否正确？网络是否可用？</translation>
        </message>
    </context>
    <context>
        <name>ServerCheckoutDialog</name>
        <message>
            <source>&amp;Browse…</source>
            <translation>浏览(&amp;B)…</translation>
        </message>
        <message>
            <source>City</source>
            <translation>市</translation>
        </message>
        <message>
            <source>District</source>
            <translation>区</translation>
        </message>
        <message>
            <source>Street</source>
            <translation>街道</translation>
        </message>
        <message>
            <source>Check out from server</source>
            <translation>从服务器检出</translation>
        </message>
        <message>
            <source>1. Server</source>
            <translation>1. 服务器</translation>
        </message>
        <message>
            <source>&amp;Connect</source>
            <translation>连接(&amp;C)</translation>
        </message>
        <message>
            <source>2. Area to check out</source>
            <translation>2. 要检出的区域</translation>
        </message>
        <message>
            <source>Area</source>
            <translation>区域</translation>
        </message>
        <message>
            <source>Level</source>
            <translation>级别</translation>
        </message>
        <message>
            <source>Code</source>
            <translation>代码</translation>
        </message>
        <message>
            <source>3. Layers</source>
            <translation>3. 图层</translation>
        </message>
        <message>
            <source>4. Workspace file</source>
            <translation>4. 工作空间文件</translation>
        </message>
        <message>
            <source>Check &amp;out</source>
            <translation>检出(&amp;O)</translation>
        </message>
        <message>
            <source>Fill in the server and press Connect.</source>
            <translation>请填写服务器信息，然后点击“连接”。</translation>
        </message>
        <message>
            <source>Give the host and the database.</source>
            <translation>请填写主机和数据库。</translation>
        </message>
        <message>
            <source>Connecting to %s…</source>
            <translation>正在连接 %s…</translation>
        </message>
        <message>
            <source>Master version %d in %s, layers: %s. Areas: %s.</source>
            <translation>主库版本 %d，坐标系 %s，图层：%s。区域：%s。</translation>
        </message>
        <message>
            <source>none</source>
            <translation>无</translation>
        </message>
        <message>
            <source>Whole master</source>
            <translation>整个主库</translation>
        </message>
        <message>
            <source>Current map extent</source>
            <translation>当前地图范围</translation>
        </message>
        <message>
            <source>Box</source>
            <translation>矩形范围</translation>
        </message>
        <message>
            <source>Counting the features in the area…</source>
            <translation>正在统计该区域内的要素…</translation>
        </message>
        <message>
            <source>The features could not be counted: %s</source>
            <translation>无法统计要素：%s</translation>
        </message>
        <message>
            <source>The checkout takes %s features and records.</source>
            <translation>本次检出将取 %s 个要素和记录。</translation>
        </message>
        <message>
            <source>Tick at least one layer.</source>
            <translation>请至少勾选一个图层。</translation>
        </message>
        <message>
            <source>Workspace file</source>
            <translation>工作空间文件</translation>
        </message>
        <message>
            <source>Tongcheng workspaces (*.sqlite)</source>
            <translation>同城工作空间 (*.sqlite)</translation>
        </message>
        <message>
            <source>Choose the workspace file to make.</source>
            <translation>请选择要创建的工作空间文件。</translation>
        </message>
        <message>
            <source>The workspace file is named %s.</source>
            <translation>工作空间文件名为 %s。</translation>
        </message>
        <message>
            <source>%s already exists: choose another name.</source>
            <translation>%s 已存在：请换一个名称。</translation>
        </message>
        <message>
            <source>The folder %s does not exist.</source>
            <translation>文件夹 %s 不存在。</translation>
        </message>
        <message>
            <source>Connect to the server first.</source>
            <translation>请先连接服务器。</translation>
        </message>
        <message>
            <source>Tick at least one layer to check out.</source>
            <translation>请至少勾选一个要检出的图层。</translation>
        </message>
        <message>
            <source>Checking out into %s…</source>
            <translation>正在检出到 %s…</translation>
        </message>
        <message>
            <source>Cancelled: no workspace was made.</source>
            <translation>已取消：未创建工作空间。</translation>
        </message>
    </context>
    <context>
        <name>ServerFields</name>
        <message>
            <source>Name or address of the PostgreSQL server (or the folder of its socket)</source>
            <translation>PostgreSQL 服务器的名称或地址（或其套接字所在的文件夹）</translation>
        </message>
        <message>
            <source>empty: from ~/.pgpass</source>
            <translation>留空：使用 ~/.pgpass</translation>
        </message>
        <message>
            <source>Host:</source>
            <translation>主机：</translation>
        </message>
        <message>
            <source>Port:</source>
            <translation>端口：</translation>
        </message>
        <message>
            <source>Database:</source>
            <translation>数据库：</translation>
        </message>
        <message>
            <source>User:</source>
            <translation>用户：</translation>
        </message>
        <message>
            <source>Schema:</source>
            <translation>模式（schema）：</translation>
        </message>
        <message>
            <source>Password:</source>
            <translation>密码：</translation>
        </message>
        <message>
            <source>The password is used only while the editor runs: it is never saved, nor written to a log. Leave it empty to use ~/.pgpass (or PGPASSWORD).</source>
            <translation>密码仅在编辑器运行期间使用：不会被保存，也不会写入日志。留空则使用 ~/.pgpass（或 PGPASSWORD）。</translation>
        </message>
    </context>
    <context>
        <name>ServerMenu</name>
        <message>
            <source>Check out from &amp;server…</source>
            <translation>从服务器检出(&amp;S)…</translation>
        </message>
        <message>
            <source>Make a workspace from the office's PostGIS master (a district, a street or an extent) and open it; its Sync menu then works with the server directly</source>
            <translation>从办公室的 PostGIS 主库（某个区、街道或范围）创建工作空间并打开；之后其“同步”菜单直接与服务器交换数据</translation>
        </message>
        <message>
            <source>Checked out %d features into %s</source>
            <translation>已检出 %d 个要素到 %s</translation>
        </message>
    </context>
    <context>
        <name>ServerSync</name>
        <message>
            <source>Send changes</source>
            <translation>发送更改</translation>
        </message>
        <message>
            <source>Nothing to send: no edits since the last sync.</source>
            <translation>没有可发送的内容：上次同步以来没有编辑。</translation>
        </message>
        <message>
            <source>Sending the changes to the server…</source>
            <translation>正在把变更发送到服务器…</translation>
        </message>
        <message>
            <source>Write a package file…</source>
            <translation>写入变更包文件…</translation>
        </message>
        <message>
            <source>Changes sent to the server (master version %d)</source>
            <translation>变更已发送到服务器（主库版本 %d）</translation>
        </message>
        <message>
            <source>Sent to %s: master version %d → %d.</source>
            <translation>已发送到 %s：主库版本 %d → %d。</translation>
        </message>
        <message>
            <source>%d change package(s) sent before had not arrived; they were applied first.</source>
            <translation>之前发送的 %d 个变更包尚未送达，已先行应用。</translation>
        </message>
        <message>
            <source>%s: %d inserted, %d updated, %d deleted, %d conflicts</source>
            <translation>%s：新增 %d，修改 %d，删除 %d，冲突 %d</translation>
        </message>
        <message>
            <source>%d change(s) were refused (outside the checkout's area, or against the layer's rules); the report lists them.</source>
            <translation>有 %d 项变更被拒绝（超出检出区域，或违反图层规则）；报告中列出了它们。</translation>
        </message>
        <message>
            <source>Report: %s</source>
            <translation>报告：%s</translation>
        </message>
        <message>
            <source>Receive update brings the office's other changes into this workspace.</source>
            <translation>“接收更新”会把办公室的其他变更带入此工作空间。</translation>
        </message>
    </context>
    <context>
        <name>SyncDialogs</name>
        <message>
            <source>Layer</source>
            <translation>图层</translation>
        </message>
        <message>
            <source>Inserts</source>
            <translation>新增</translation>
        </message>
        <message>
            <source>Updates</source>
            <translation>修改</translation>
        </message>
        <message>
            <source>Deletes</source>
            <translation>删除</translation>
        </message>
        <message>
            <source>Conflicts</source>
            <translation>冲突</translation>
        </message>
        <message>
            <source>Conflicts default to:</source>
            <translation>冲突默认处理：</translation>
        </message>
        <message>
            <source>Master GeoPackages (*.gpkg);;All files (*)</source>
            <translation>主库 GeoPackage (*.gpkg);;所有文件 (*)</translation>
        </message>
        <message>
            <source>Office wins</source>
            <translation>以办公室为准</translation>
        </message>
        <message>
            <source>Field wins</source>
            <translation>以外业为准</translation>
        </message>
        <message>
            <source>Newest edit wins</source>
            <translation>以最新编辑为准</translation>
        </message>
        <message>
            <source>Manual (office value kept, marked unresolved)</source>
            <translation>手动（保留办公室的值，标记为未解决）</translation>
        </message>
        <message>
            <source>Receive update</source>
            <translation>接收更新</translation>
        </message>
        <message>
            <source>Master %s, version %d → %d. Nothing has been changed yet.</source>
            <translation>主库 %s，版本 %d → %d。尚未做任何更改。</translation>
        </message>
        <message numerus="yes">
            <source>%n conflict(s): the same field was changed here and at the office. Choose per field which value to keep; the other is kept in the report.</source>
            <translation>
                <numerusform>%n 处冲突：同一字段在此处和办公室都被修改。请逐个字段选择保留哪个值；另一个值记录在报告中。</numerusform>
            </translation>
        </message>
        <message>
            <source>No conflicts: your unsent edits merge cleanly with the office's.</source>
            <translation>没有冲突：您未发送的编辑可与办公室的更改顺利合并。</translation>
        </message>
        <message>
            <source>Unsaved edits</source>
            <translation>未保存的编辑</translation>
        </message>
        <message>
            <source>There are %d unsaved edits. Sync works on the saved workspace: save them first?</source>
            <translation>有 %d 项未保存的编辑。同步基于已保存的工作空间：先保存吗？</translation>
        </message>
        <message>
            <source>Send changes</source>
            <translation>发送更改</translation>
        </message>
        <message>
            <source>Change packages (*.gpkg)</source>
            <translation>变更包 (*.gpkg)</translation>
        </message>
        <message>
            <source>You can work by files instead, as when offline.</source>
            <translation>也可以像离线时一样，通过文件交换。</translation>
        </message>
        <message>
            <source>Server password</source>
            <translation>服务器密码</translation>
        </message>
        <message>
            <source>Password for %s (kept only while the editor runs, never saved):</source>
            <translation>%s 的密码（仅在编辑器运行期间保留，不会保存）：</translation>
        </message>
    </context>
    <context>
        <name>SyncMenu</name>
        <message>
            <source>Receive update</source>
            <translation>接收更新</translation>
        </message>
        <message>
            <source>Send changes</source>
            <translation>发送修改</translation>
        </message>
        <message>
            <source>Nothing to send: no edits since the last sync.</source>
            <translation>没有可发送的内容：上次同步以来没有编辑。</translation>
        </message>
        <message>
            <source>%s: %d inserted, %d updated, %d deleted, %d conflicts</source>
            <translation>%s：新增 %d，修改 %d，删除 %d，冲突 %d</translation>
        </message>
        <message>
            <source>Report: %s</source>
            <translation>报告：%s</translation>
        </message>
        <message>
            <source>S&amp;ync</source>
            <translation>同步(&amp;Y)</translation>
        </message>
        <message>
            <source>&amp;Send changes…</source>
            <translation>发送更改(&amp;S)…</translation>
        </message>
        <message>
            <source>Write the edits since the last sync as a change package for the office</source>
            <translation>将上次同步以来的编辑写成变更包交给办公室</translation>
        </message>
        <message>
            <source>&amp;Receive update…</source>
            <translation>接收更新(&amp;R)…</translation>
        </message>
        <message>
            <source>Bring the office's newer master into this workspace, keeping the edits not yet sent</source>
            <translation>将办公室较新的主库并入此工作空间，保留尚未发送的编辑</translation>
        </message>
        <message>
            <source>&amp;Apply change packages to a master…</source>
            <translation>将变更包应用到主库(&amp;A)…</translation>
        </message>
        <message>
            <source>Office: check change packages from the field against a master (a file or a server), review the conflicts, then apply them all in one go</source>
            <translation>办公室：将外业的变更包与主库（文件或服务器）核对，审阅冲突后一次性全部应用</translation>
        </message>
        <message>
            <source>Sync</source>
            <translation>同步</translation>
        </message>
        <message>
            <source>%s was not checked out from a master, so it cannot be synced. Check out a workspace from the office's master first.</source>
            <translation>%s 不是从主库检出的，无法同步。请先从办公室的主库检出工作空间。</translation>
        </message>
        <message>
            <source>Writing the change package…</source>
            <translation>正在写入变更包…</translation>
        </message>
        <message>
            <source>Wrote the change package %s.</source>
            <translation>已写入变更包 %s。</translation>
        </message>
        <message>
            <source>%s: %d inserted, %d updated, %d deleted</source>
            <translation>%s：新增 %d，修改 %d，删除 %d</translation>
        </message>
        <message>
            <source>Give this file to the office. Your next package will hold only later edits.</source>
            <translation>请将此文件交给办公室。下一个变更包只包含此后的编辑。</translation>
        </message>
        <message>
            <source>Change package written: %s</source>
            <translation>变更包已写入：%s</translation>
        </message>
        <message>
            <source>Comparing with the office's master…</source>
            <translation>正在与办公室的主库比较…</translation>
        </message>
        <message>
            <source>Choose a master file…</source>
            <translation>选择主库文件…</translation>
        </message>
        <message>
            <source>Changes sent before have not reached the server yet: Send changes delivers them first, then receive the update.</source>
            <translation>之前发送的变更尚未送达服务器：请先“发送更改”把它们送达，然后再接收更新。</translation>
        </message>
        <message>
            <source>It rebases the workspace on the office's master: the edits not yet sent are kept on top of the new base, and the conflicts are settled as chosen.</source>
            <translation>它将工作空间重新基于办公室的主库：尚未发送的编辑保留在新的基础之上，冲突按所选方式解决。</translation>
        </message>
        <message>
            <source>Receiving the update…</source>
            <translation>正在接收更新…</translation>
        </message>
        <message>
            <source>The workspace now has master version %d.</source>
            <translation>工作空间现为主库版本 %d。</translation>
        </message>
        <message>
            <source>The office changed layer definitions:</source>
            <translation>办公室更改了图层定义：</translation>
        </message>
        <message>
            <source>%d conflicts; your choices kept %d field values. Every value not kept is in the report:</source>
            <translation>%d 处冲突；按您的选择保留了 %d 个外业值。所有未保留的值都记录在报告中：</translation>
        </message>
        <message>
            <source>Update received. %s</source>
            <translation>已接收更新。%s</translation>
        </message>
        <message>
            <source>Update received</source>
            <translation>已接收更新</translation>
        </message>
        <message>
            <source>Apply change packages</source>
            <translation>应用变更包</translation>
        </message>
        <message>
            <source>Master version %d → %d.</source>
            <translation>主库版本 %d → %d。</translation>
        </message>
        <message>
            <source>already applied; nothing changed.</source>
            <translation>已应用过；无任何改变。</translation>
        </message>
        <message>
            <source>%d feature(s) refused (the reasons are in the report)</source>
            <translation>%d 个要素被拒绝（原因见报告）</translation>
        </message>
        <message>
            <source>Reports (every value not kept is in them):</source>
            <translation>报告（所有未保留的值都记录在其中）：</translation>
        </message>
        <message>
            <source>Change packages applied: master version %d</source>
            <translation>变更包已应用：主库版本 %d</translation>
        </message>
    </context>
    <context>
        <name>ValidationMessage</name>
        <message>
            <source> or </source>
            <translation>或</translation>
        </message>
        <message>
            <source>{0} is {1}</source>
            <translation>{0}为{1}</translation>
        </message>
        <message>
            <source> and </source>
            <translation>且</translation>
        </message>
        <message>
            <source>Geometry</source>
            <translation>几何</translation>
        </message>
        <message>
            <source>{field}: a value is required where {0}</source>
            <translation>{field}：在{0}时必须填写</translation>
        </message>
        <message>
            <source>{field}: a value is required</source>
            <translation>{field}：必须填写</translation>
        </message>
        <message>
            <source>{field}: a component code never changes</source>
            <translation>{field}：部件标识码一经给出不再改变</translation>
        </message>
        <message>
            <source>{field}: not in the expected form</source>
            <translation>{field}：格式不符合要求</translation>
        </message>
        <message>
            <source>{field}: no such field in this layer</source>
            <translation>{field}：此图层没有该字段</translation>
        </message>
        <message>
            <source>{field}: must be text</source>
            <translation>{field}：必须是文本</translation>
        </message>
        <message>
            <source>{field}: at most {0} characters</source>
            <translation>{field}：最多 {0} 个字符</translation>
        </message>
        <message>
            <source>{field}: must be a whole number</source>
            <translation>{field}：必须是整数</translation>
        </message>
        <message>
            <source>{field}: must be a number</source>
            <translation>{field}：必须是数字</translation>
        </message>
        <message>
            <source>{field}: must be yes or no</source>
            <translation>{field}：必须为是或否</translation>
        </message>
        <message>
            <source>{field}: must be a date (YYYY-MM-DD)</source>
            <translation>{field}：必须是日期（YYYY-MM-DD）</translation>
        </message>
        <message>
            <source>{field}: must be a date and time with a time zone</source>
            <translation>{field}：必须是带时区的日期时间</translation>
        </message>
        <message>
            <source>{field}: must be JSON</source>
            <translation>{field}：必须是 JSON</translation>
        </message>
        <message>
            <source>{field}: choose a value from the list</source>
            <translation>{field}：请从列表中选择</translation>
        </message>
        <message>
            <source>{field}: must be at least {0}</source>
            <translation>{field}：不能小于 {0}</translation>
        </message>
        <message>
            <source>{field}: must be at most {0}</source>
            <translation>{field}：不能大于 {0}</translation>
        </message>
        <message>
            <source>{field}: {rule}</source>
            <translation>{field}：{rule}</translation>
        </message>
    </context>
    <context>
        <name>WindowDefinitions</name>
        <message>
            <source>%s: definition version %d → %d</source>
            <translation>%s：定义版本 %d → %d</translation>
        </message>
        <message>
            <source>%s: layer added</source>
            <translation>%s：新增图层</translation>
        </message>
        <message>
            <source>%s: layer removed</source>
            <translation>%s：图层已移除</translation>
        </message>
        <message>
            <source>The map, the forms and the table now show the new layer definitions; the undo history was cleared (it held edits made under the old ones).</source>
            <translation>地图、表单和属性表已按新的图层定义显示；撤销历史已清空（其中的编辑是按旧定义做的）。</translation>
        </message>
        <message>
            <source>The map, the forms and the table now show the new layer definitions.</source>
            <translation>地图、表单和属性表已按新的图层定义显示。</translation>
        </message>
    </context>
    <context>
        <name>app</name>
        <message>
            <source>Making the demo workspace (a district of central Chengdu)…</source>
            <translation>正在创建演示工作空间（成都中心城区的一个区）…</translation>
        </message>
        <message>
            <source>Cancel</source>
            <translation>取消</translation>
        </message>
        <message>
            <source>First start</source>
            <translation>首次启动</translation>
        </message>
        <message>
            <source>Cannot open the workspace</source>
            <translation>无法打开工作空间</translation>
        </message>
        <message>
            <source>Something went wrong: %s

Your saved edits are safe. Unsaved edits are still in the window; save them if you can.</source>
            <translation>出现错误：%s

已保存的编辑不受影响。未保存的编辑仍在窗口中，请尽量保存。</translation>
        </message>
        <message>
            <source>The log is %s</source>
            <translation>日志文件：%s</translation>
        </message>
        <message>
            <source>A report was written to %s</source>
            <translation>错误报告已写入 %s</translation>
        </message>
        <message>
            <source>Unexpected error</source>
            <translation>意外错误</translation>
        </message>
    </context>
    <context>
        <name>basemap</name>
        <message>
            <source>{file} does not exist.</source>
            <translation>{file} 不存在。</translation>
        </message>
        <message>
            <source>{file} cannot be opened: {reason}</source>
            <translation>无法打开 {file}：{reason}</translation>
        </message>
        <message>
            <source>{file} is not an SQLite file (MBTiles or GeoPackage).</source>
            <translation>{file} 不是 SQLite 文件（MBTiles 或 GeoPackage）。</translation>
        </message>
        <message>
            <source>{file} holds no tile table (neither MBTiles nor GeoPackage tiles).</source>
            <translation>{file} 中没有瓦片表（既不是 MBTiles 也不是 GeoPackage 瓦片）。</translation>
        </message>
        <message>
            <source>{file} is not a readable tile file: {reason}</source>
            <translation>{file} 不是可读取的瓦片文件：{reason}</translation>
        </message>
        <message>
            <source>{file}: the coordinate system of the tiles (srs_id {srs}) is unknown.</source>
            <translation>{file}：瓦片的坐标系（srs_id {srs}）未知。</translation>
        </message>
        <message>
            <source>{file} contains no tiles.</source>
            <translation>{file} 中没有任何瓦片。</translation>
        </message>
    </context>
    <context>
        <name>basemap_menu</name>
        <message>
            <source>Add basemap</source>
            <translation>添加底图</translation>
        </message>
        <message>
            <source>Tile files (*.mbtiles *.gpkg);;MBTiles (*.mbtiles);;GeoPackage (*.gpkg);;All files (*)</source>
            <translation>瓦片文件 (*.mbtiles *.gpkg);;MBTiles (*.mbtiles);;GeoPackage (*.gpkg);;所有文件 (*)</translation>
        </message>
        <message>
            <source>Add &amp;basemap…</source>
            <translation>添加底图(&amp;B)…</translation>
        </message>
        <message>
            <source>Show an MBTiles or GeoPackage tiles file beneath the layers</source>
            <translation>在图层下方显示 MBTiles 或 GeoPackage 瓦片文件</translation>
        </message>
        <message>
            <source>Remove basemap</source>
            <translation>移除底图</translation>
        </message>
    </context>
    <context>
        <name>commands</name>
        <message>
            <source>Add feature to %s</source>
            <translation>向%s添加要素</translation>
        </message>
        <message>
            <source>Change %s of %s %d</source>
            <translation>修改 %s（%s %d）</translation>
        </message>
        <message numerus="yes">
            <source>Change %s of %n feature(s) of %s</source>
            <translation>
                <numerusform>修改%s（%n 个要素，%s）</numerusform>
            </translation>
        </message>
        <message>
            <source>Move %s %d</source>
            <translation>移动%s %d</translation>
        </message>
        <message numerus="yes">
            <source>Delete %n feature(s) of %s</source>
            <translation>
                <numerusform>删除 %n 个要素（%s）</numerusform>
            </translation>
        </message>
        <message numerus="yes">
            <source>Add %n photo(s) to %s %d</source>
            <translation>
                <numerusform>向%s %d 添加 %n 张照片</numerusform>
            </translation>
        </message>
        <message>
            <source>Delete a photo of %s %d</source>
            <translation>删除%s %d 的一张照片</translation>
        </message>
        <message>
            <source>Photo refused</source>
            <translation>照片被拒绝</translation>
        </message>
        <message>
            <source>The clipboard holds no image</source>
            <translation>剪贴板中没有图片</translation>
        </message>
        <message>
            <source>pasted</source>
            <translation>粘贴的图片</translation>
        </message>
        <message>
            <source>%s is already a photo of this feature; nothing was added</source>
            <translation>%s 已是此要素的照片，未添加任何内容</translation>
        </message>
    </context>
</TS>
